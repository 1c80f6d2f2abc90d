// The safe template language of branch-name and commit-message rules.
//
//   feature/${issueId}-${name | slug | truncate:40}
//
// Text is copied as is; `$$` is a literal `$`. `${var | filter | filter:N}` inserts a
// variable through filters, left to right:
//   slug        lowercase ASCII letters and digits joined by single dashes
//   lower       ASCII lowercase
//   upper       ASCII uppercase
//   truncate:N  at most N characters (UTF-8 aware), N in 1..1000
// Variables are fixed per rule kind (branch: issueId, name, title, type, source; commit:
// message, issueId, source); anything else is a parse error. Nothing is executed.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace atelier::config {

struct TemplateError : std::runtime_error {
    TemplateError(const std::string& msg, size_t pos) : std::runtime_error(msg), position(pos) {}
    size_t position;  // 0-based byte offset into the template
};

class RuleTemplate {
public:
    // Throws TemplateError with the position of the first problem.
    static RuleTemplate parse(const std::string& text, const std::set<std::string>& variables);
    std::string render(const std::map<std::string, std::string>& values) const;

private:
    struct Filter {
        std::string name;
        int arg = 0;
    };
    struct Part {
        bool isVar = false;
        std::string text;  // literal or variable name
        std::vector<Filter> filters;
    };
    std::vector<Part> parts_;
};

const std::set<std::string>& branchRuleVariables();
const std::set<std::string>& commitRuleVariables();

// The documented JS-ish form "return `...`" (OpenKit's examples) is accepted by taking the
// text between the backticks; anything else is used as is.
std::string unwrapRuleContent(const std::string& content);

std::string applySlug(const std::string& s);

}  // namespace atelier::config
