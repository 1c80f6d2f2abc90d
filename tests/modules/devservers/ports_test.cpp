#include "../../../modules/devservers/src/ports.hpp"

#include <gtest/gtest.h>

using namespace atelier::devservers;

TEST(Ports, ApplyOffsetRewritesNumericPlaceholdersOnly) {
    EXPECT_EQ(applyPortOffset("http://localhost:${3000}/x", 2), "http://localhost:3002/x");
    EXPECT_EQ(applyPortOffset("${3000},${5173} ${PORT} $5 ${}", 10), "3010,5183 ${PORT} $5 ${}");
}

TEST(Ports, AllocateSmallestFreeMultiple) {
    auto free = [](int) { return true; };
    EXPECT_EQ(allocateOffset(1, {3000}, {}, {}, free), 1);
    EXPECT_EQ(allocateOffset(1, {3000}, {1, 2}, {}, free), 3);
    EXPECT_EQ(allocateOffset(10, {3000}, {10}, {}, free), 20);
    EXPECT_EQ(allocateOffset(1, {3000, 4000}, {}, {4001}, free), 2);
    EXPECT_EQ(allocateOffset(1, {3000}, {}, {}, [](int p) { return p != 3001; }), 2);
    EXPECT_EQ(allocateOffset(1000, {65000}, {}, {}, free), -1);
}

TEST(Ports, BuildEnvironmentOverridesAndAdds) {
    auto env = buildEnvironment({"PATH=/bin", "PORT=1"}, 3, {3000, 5173}, 3000, {{"API", "http://h:${5173}"}}, {{"X", "y"}});
    std::map<std::string, std::string> m;
    for (auto& kv : env) m[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    EXPECT_EQ(m["PATH"], "/bin");
    EXPECT_EQ(m["PORT"], "3003");
    EXPECT_EQ(m["ATELIER_PORT_OFFSET"], "3");
    EXPECT_EQ(m["ATELIER_KNOWN_PORTS"], "[3000,5173]");
    EXPECT_EQ(m["API"], "http://h:5176");
    EXPECT_EQ(m["X"], "y");
    EXPECT_EQ(env.size(), 6u);
}
