#include "../../../modules/config/src/rule_template.hpp"

#include <gtest/gtest.h>

using namespace atelier::config;

TEST(RuleTemplate, RendersVariablesAndText) {
    auto t = RuleTemplate::parse("feature/${issueId}-${name}", branchRuleVariables());
    EXPECT_EQ(t.render({{"issueId", "PROJ-1"}, {"name", "Login"}}), "feature/PROJ-1-Login");
}

TEST(RuleTemplate, EachFilter) {
    auto vars = branchRuleVariables();
    EXPECT_EQ(RuleTemplate::parse("${name|slug}", vars).render({{"name", "Fix the Login  Page!"}}), "fix-the-login-page");
    EXPECT_EQ(RuleTemplate::parse("${name | lower}", vars).render({{"name", "MiXeD"}}), "mixed");
    EXPECT_EQ(RuleTemplate::parse("${issueId|upper}", vars).render({{"issueId", "proj-7"}}), "PROJ-7");
    EXPECT_EQ(RuleTemplate::parse("${name|truncate:5}", vars).render({{"name", "abcdefgh"}}), "abcde");
    EXPECT_EQ(RuleTemplate::parse("${name|truncate:2}", vars).render({{"name", "éèà"}}), "éè");
    EXPECT_EQ(RuleTemplate::parse("${name|slug|truncate:7|upper}", vars).render({{"name", "Hello big world"}}), "HELLO-B");
}

TEST(RuleTemplate, DollarEscapesAndMissingValues) {
    auto vars = commitRuleVariables();
    EXPECT_EQ(RuleTemplate::parse("$$ cost $5 ${message}", vars).render({{"message", "m"}}), "$ cost $5 m");
    EXPECT_EQ(RuleTemplate::parse("[${issueId}] ${message}", vars).render({{"message", "x"}}), "[] x");
}

TEST(RuleTemplate, ParseErrorsCarryPositions) {
    auto vars = branchRuleVariables();
    auto pos = [&](const std::string& s) -> long {
        try {
            RuleTemplate::parse(s, vars);
        } catch (const TemplateError& e) {
            return static_cast<long>(e.position);
        }
        return -1;
    };
    EXPECT_EQ(pos("feature/${issueId"), 8);          // unterminated
    EXPECT_EQ(pos("x-${nope}"), 4);                  // unknown variable
    EXPECT_EQ(pos("${name|shout}"), 7);              // unknown filter
    EXPECT_EQ(pos("${name|truncate}"), 15);          // missing length
    EXPECT_EQ(pos("${name|truncate:0}"), 16);        // out of range
    EXPECT_EQ(pos("${name|slug:3}"), 11);            // argument on a filter without one
    EXPECT_EQ(pos("${}"), 2);                        // empty name
    EXPECT_EQ(pos("${name x}"), 7);                  // junk
    EXPECT_EQ(pos("${process.exit()}"), 2);          // no expressions
    EXPECT_EQ(pos("plain/${name}"), -1);
}

TEST(RuleTemplate, UnwrapsDocumentedJsForm) {
    EXPECT_EQ(unwrapRuleContent("return `feature/${issueId}-${name}`"), "feature/${issueId}-${name}");
    EXPECT_EQ(unwrapRuleContent("`a/${name}`;"), "a/${name}");
    EXPECT_EQ(unwrapRuleContent("feature/${name}"), "feature/${name}");
}
