#include <atelier/util.hpp>
#include <gtest/gtest.h>
TEST(Util, IsoAndUuid) {
    EXPECT_EQ(atelier::isoFromMillis(0), "1970-01-01T00:00:00.000Z");
    auto u = atelier::newUuid();
    EXPECT_TRUE(atelier::isUuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_NE(atelier::newUuid(), u);
    EXPECT_EQ(atelier::slugify("  Hello, World! 2 "), "hello-world-2");
    EXPECT_EQ(atelier::randomHex(8).size(), 8u);
}

TEST(Util, KebabCase) {
    EXPECT_TRUE(atelier::isKebabCase("my-project-2"));
    EXPECT_TRUE(atelier::isKebabCase("a"));
    EXPECT_FALSE(atelier::isKebabCase(""));
    EXPECT_FALSE(atelier::isKebabCase("-a"));
    EXPECT_FALSE(atelier::isKebabCase("a-"));
    EXPECT_FALSE(atelier::isKebabCase("a--b"));
    EXPECT_FALSE(atelier::isKebabCase("My-Project"));
    EXPECT_FALSE(atelier::isKebabCase("a_b"));
}
