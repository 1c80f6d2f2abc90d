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

TEST(Util, UrlEncodeKeepsOnlyUnreserved) {
    EXPECT_EQ(atelier::urlEncode("aZ09-_.~"), "aZ09-_.~");
    EXPECT_EQ(atelier::urlEncode("a b/c?d&e=f#g%"), "a%20b%2Fc%3Fd%26e%3Df%23g%25");
    EXPECT_EQ(atelier::urlEncode("../x"), "..%2Fx");
    EXPECT_EQ(atelier::urlEncode("\xC3\xA9"), "%C3%A9");  // UTF-8 bytes, upper-case hex
    EXPECT_EQ(atelier::urlEncode(std::string("a\0b", 3)), "a%00b");
    EXPECT_EQ(atelier::urlEncode(""), "");
}
