// Proof the SDK is enough: install Atelier to a temporary prefix, build the example plugin
// out of tree with find_package(AtelierSDK), load it into the real host and use it.
#include <gtest/gtest.h>

#include "test_server.hpp"

using atelier::test::run;
using atelier::test::TestServer;

TEST(HelloPlugin, BuildsOutOfTreeAndLoads) {
    std::string prefix = atelier::test::makeTempDir("atelier-prefix-");
    std::string out;
    ASSERT_EQ(run({CMAKE_COMMAND_PATH, "--install", ATELIER_BUILD_DIR, "--prefix", prefix}, {}, &out), 0) << out;
    ASSERT_TRUE(std::filesystem::exists(prefix + "/include/atelier/abi.h"));
    ASSERT_TRUE(std::filesystem::exists(prefix + "/lib/cmake/AtelierSDK/AtelierSDKConfig.cmake"));
    ASSERT_TRUE(std::filesystem::exists(prefix + "/bin/atelier"));

    std::string build = atelier::test::makeTempDir("atelier-hello-build-");
    ASSERT_EQ(run({CMAKE_COMMAND_PATH, "-S", std::string(ATELIER_SOURCE_DIR) + "/examples/hello-plugin", "-B", build, "-G",
                   CMAKE_GENERATOR_NAME, "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release"},
                  {}, &out),
              0)
        << out;
    ASSERT_EQ(run({CMAKE_COMMAND_PATH, "--build", build}, {}, &out), 0) << out;
    ASSERT_TRUE(std::filesystem::exists(build + "/modules/libhello.so"));
    ASSERT_TRUE(std::filesystem::exists(build + "/modules/hello.module.json"));

    TestServer::Options o;
    o.extraArgs = {"--modules-dir", build + "/modules"};
    TestServer server(o);
    auto mods = server.get("/api/modules");
    ASSERT_NE(mods.body.find("\"id\":\"hello\""), std::string::npos) << mods.body;

    auto r = server.get("/api/hello?name=ada");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getValue<std::string>("message"), "Hello, ada!");  // the hook added "!"
    EXPECT_EQ(r.json()->getValue<int>("total"), 1);
    auto again = server.get("/api/hello?name=bob");
    EXPECT_EQ(again.json()->getValue<int>("total"), 2);  // persisted in the plugin's own table

    auto vetoed = server.get("/api/hello?name=nobody");
    EXPECT_EQ(vetoed.status, 422);
    EXPECT_EQ(vetoed.json()->getValue<std::string>("code"), "GREETING_REFUSED");

    auto events = server.get("/api/events?event_type=hello.greeted");
    ASSERT_EQ(events.status, 200);
    auto list = events.jsonArray();
    ASSERT_TRUE(list) << events.body;
    EXPECT_EQ(list->size(), 2u);

    // The installed binary runs too, finding its modules beside it.
    std::string installedOut;
    EXPECT_EQ(run({prefix + "/bin/atelier", "modules", "--data-dir", atelier::test::makeTempDir()}, {}, &installedOut), 0);
    EXPECT_NE(installedOut.find(prefix + "/lib/atelier/modules"), std::string::npos) << installedOut;
    std::filesystem::remove_all(prefix);
    std::filesystem::remove_all(build);
}
