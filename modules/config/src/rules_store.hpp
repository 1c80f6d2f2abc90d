// Branch-name and commit-message rules stored as templates under <project>/.atelier/rules/:
// `<kind>.tpl` (default) and `<kind>.<jira|linear|local>.tpl` (per-source overrides).
#pragma once

#include "rule_template.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace atelier::config {

enum class RuleKind { BranchName, CommitMessage };

const char* ruleKindName(RuleKind k);  // "branch-name" / "commit-message"
const char* builtinRule(RuleKind k);
bool isRuleSource(const std::string& s);  // jira | linear | local

class RulesStore {
public:
    explicit RulesStore(std::filesystem::path projectRoot) : root_(std::move(projectRoot)) {}

    struct Got {
        std::string content;
        bool hasOverride = false;  // a file exists for this source (or the default rule)
    };
    Got get(RuleKind k, const std::optional<std::string>& source) const;
    // Empty content deletes the rule. Throws TemplateError when it does not parse.
    void put(RuleKind k, const std::string& content, const std::optional<std::string>& source);
    std::map<std::string, bool> overrides(RuleKind k) const;
    bool hasDefault(RuleKind k) const;
    // Source rule, then the default rule, then the built-in; an empty result falls back.
    std::string evaluate(RuleKind k, const std::map<std::string, std::string>& values,
                         const std::optional<std::string>& source) const;

private:
    std::filesystem::path file(RuleKind k, const std::optional<std::string>& source) const;
    std::filesystem::path root_;
};

}  // namespace atelier::config
