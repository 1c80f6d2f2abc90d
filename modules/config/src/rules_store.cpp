#include "rules_store.hpp"

#include "project_config.hpp"

namespace atelier::config {

const char* ruleKindName(RuleKind k) { return k == RuleKind::BranchName ? "branch-name" : "commit-message"; }

const char* builtinRule(RuleKind k) {
    return k == RuleKind::BranchName ? "${issueId}/${name | slug | truncate:60}" : "${message}";
}

bool isRuleSource(const std::string& s) { return s == "jira" || s == "linear" || s == "local"; }

static const std::set<std::string>& varsFor(RuleKind k) {
    return k == RuleKind::BranchName ? branchRuleVariables() : commitRuleVariables();
}

std::filesystem::path RulesStore::file(RuleKind k, const std::optional<std::string>& source) const {
    std::string name = ruleKindName(k);
    if (source) name += "." + *source;
    return root_ / ".atelier" / "rules" / (name + ".tpl");
}

RulesStore::Got RulesStore::get(RuleKind k, const std::optional<std::string>& source) const {
    Got g;
    auto p = file(k, source);
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) {
        g.content = readTextFile(p);
        g.hasOverride = true;
    } else if (!source) {
        g.content = builtinRule(k);
    }
    return g;
}

void RulesStore::put(RuleKind k, const std::string& content, const std::optional<std::string>& source) {
    auto p = file(k, source);
    std::lock_guard lock(configWriteMutex());
    if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
        std::error_code ec;
        std::filesystem::remove(p, ec);
        return;
    }
    std::string text = unwrapRuleContent(content);
    RuleTemplate::parse(text, varsFor(k));  // throws TemplateError
    writeTextFile(p, text);
}

std::map<std::string, bool> RulesStore::overrides(RuleKind k) const {
    std::map<std::string, bool> out;
    std::error_code ec;
    for (const char* s : {"jira", "linear", "local"}) out[s] = std::filesystem::is_regular_file(file(k, std::string(s)), ec);
    return out;
}

bool RulesStore::hasDefault(RuleKind k) const {
    std::error_code ec;
    return std::filesystem::is_regular_file(file(k, std::nullopt), ec);
}

std::string RulesStore::evaluate(RuleKind k, const std::map<std::string, std::string>& values,
                                 const std::optional<std::string>& source) const {
    auto trim = [k](std::string s) {
        const char* cut = k == RuleKind::BranchName ? " \t\r\n/-" : " \t\r\n";
        size_t b = s.find_first_not_of(cut);
        if (b == std::string::npos) return std::string();
        size_t e = s.find_last_not_of(cut);
        return s.substr(b, e - b + 1);
    };
    std::vector<std::optional<std::string>> order;
    if (source) order.push_back(source);
    order.push_back(std::nullopt);
    for (auto& src : order) {
        auto p = file(k, src);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(p, ec)) continue;
        try {
            auto out = trim(RuleTemplate::parse(readTextFile(p), varsFor(k)).render(values));
            if (!out.empty()) return out;
        } catch (const TemplateError&) {
            // a hand-edited broken file falls through to the next rule
        }
    }
    return trim(RuleTemplate::parse(builtinRule(k), varsFor(k)).render(values));
}

}  // namespace atelier::config
