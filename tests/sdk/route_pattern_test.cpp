#include <atelier/route_pattern.hpp>
#include <gtest/gtest.h>

using atelier::route::Pattern;
using atelier::route::Params;
using atelier::route::splitPath;

TEST(RoutePattern, MatchesStaticAndParams) {
    Pattern p("/api/projects/:id/repos/:repoId");
    Params params;
    ASSERT_TRUE(p.match(splitPath("/api/projects/p1/repos/r%202"), params));
    ASSERT_EQ(params.size(), 2u);
    EXPECT_EQ(params[0].first, "id");
    EXPECT_EQ(params[0].second, "p1");
    EXPECT_EQ(params[1].second, "r 2");
    EXPECT_FALSE(p.match(splitPath("/api/projects/p1/repos"), params));
    EXPECT_FALSE(p.match(splitPath("/api/projects/p1/other/x"), params));
}

TEST(RoutePattern, StaticOutranksParam) {
    Pattern stat("/api/tickets/counts"), param("/api/tickets/:id");
    EXPECT_GT(stat.specificity(), param.specificity());
}

TEST(RoutePattern, WildcardTakesRest) {
    Pattern p("/static/*");
    Params params;
    ASSERT_TRUE(p.match(splitPath("/static/a/b.css"), params));
    EXPECT_EQ(params[0].second, "a/b.css");
    EXPECT_FALSE(p.match(splitPath("/static"), params));
}

TEST(RoutePattern, QueryParsing) {
    auto q = atelier::route::parseQuery("a=1&b=two+words&c=%2Fx&flag");
    ASSERT_EQ(q.size(), 4u);
    EXPECT_EQ(q[1].second, "two words");
    EXPECT_EQ(q[2].second, "/x");
    EXPECT_EQ(q[3].first, "flag");
    EXPECT_TRUE(atelier::route::parseQuery("").empty());
}

TEST(RoutePattern, PercentDecodeKeepsBadEscapes) {
    EXPECT_EQ(atelier::route::percentDecode("100%"), "100%");
    EXPECT_EQ(atelier::route::percentDecode("%zz"), "%zz");
    EXPECT_EQ(atelier::route::percentDecode("%41"), "A");
}
