#include "rule_template.hpp"

#include <cctype>

namespace atelier::config {

namespace {

bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool identChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void skipSpace(const std::string& s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string truncateUtf8(const std::string& s, int n) {
    size_t i = 0;
    int count = 0;
    while (i < s.size() && count < n) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        i += len;
        ++count;
    }
    return s.substr(0, std::min(i, s.size()));
}

}  // namespace

std::string applySlug(const std::string& in) {
    std::string out;
    bool dash = false;
    for (unsigned char c : in) {
        if (std::isalnum(c) && c < 0x80) {
            if (dash && !out.empty()) out.push_back('-');
            out.push_back(static_cast<char>(std::tolower(c)));
            dash = false;
        } else {
            dash = true;
        }
    }
    return out;
}

const std::set<std::string>& branchRuleVariables() {
    static const std::set<std::string> v{"issueId", "name", "title", "type", "source"};
    return v;
}
const std::set<std::string>& commitRuleVariables() {
    static const std::set<std::string> v{"message", "issueId", "source"};
    return v;
}

std::string unwrapRuleContent(const std::string& content) {
    size_t b = content.find_first_not_of(" \t\r\n");
    size_t e = content.find_last_not_of(" \t\r\n;");
    if (b == std::string::npos) return "";
    std::string s = content.substr(b, e - b + 1);
    if (s.rfind("return", 0) == 0) {
        size_t k = s.find_first_not_of(" \t\r\n", 6);
        if (k != std::string::npos && s[k] == '`') s = s.substr(k);
    }
    if (s.size() >= 2 && s.front() == '`' && s.back() == '`' && s.find('`', 1) == s.size() - 1)
        return s.substr(1, s.size() - 2);
    return content;
}

RuleTemplate RuleTemplate::parse(const std::string& s, const std::set<std::string>& variables) {
    RuleTemplate t;
    std::string literal;
    size_t i = 0;
    auto flush = [&] {
        if (!literal.empty()) t.parts_.push_back(Part{false, literal, {}});
        literal.clear();
    };
    while (i < s.size()) {
        char c = s[i];
        if (c != '$') {
            literal.push_back(c);
            ++i;
            continue;
        }
        if (i + 1 < s.size() && s[i + 1] == '$') {
            literal.push_back('$');
            i += 2;
            continue;
        }
        if (i + 1 >= s.size() || s[i + 1] != '{') {
            literal.push_back('$');
            ++i;
            continue;
        }
        size_t open = i;
        i += 2;
        skipSpace(s, i);
        if (i >= s.size()) throw TemplateError("Unterminated ${ at position " + std::to_string(open), open);
        if (!identStart(s[i])) throw TemplateError("Expected a variable name at position " + std::to_string(i), i);
        size_t nameStart = i;
        while (i < s.size() && identChar(s[i])) ++i;
        Part p{true, s.substr(nameStart, i - nameStart), {}};
        if (!variables.count(p.text)) {
            std::string list;
            for (auto& v : variables) list += (list.empty() ? "" : ", ") + v;
            throw TemplateError("Unknown variable '" + p.text + "' at position " + std::to_string(nameStart) +
                                    " (known: " + list + ")",
                                nameStart);
        }
        skipSpace(s, i);
        while (i < s.size() && s[i] == '|') {
            ++i;
            skipSpace(s, i);
            size_t fStart = i;
            while (i < s.size() && identChar(s[i])) ++i;
            Filter f{s.substr(fStart, i - fStart), 0};
            if (f.name.empty()) throw TemplateError("Expected a filter name at position " + std::to_string(fStart), fStart);
            if (f.name != "slug" && f.name != "lower" && f.name != "upper" && f.name != "truncate")
                throw TemplateError("Unknown filter '" + f.name + "' at position " + std::to_string(fStart) +
                                        " (known: slug, lower, upper, truncate:N)",
                                    fStart);
            skipSpace(s, i);
            if (f.name == "truncate") {
                if (i >= s.size() || s[i] != ':')
                    throw TemplateError("truncate needs a length, e.g. truncate:40, at position " + std::to_string(i), i);
                ++i;
                skipSpace(s, i);
                size_t nStart = i;
                while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - nStart < 6) ++i;
                if (i == nStart) throw TemplateError("Expected a number at position " + std::to_string(nStart), nStart);
                int n = std::stoi(s.substr(nStart, i - nStart));
                if (n < 1 || n > 1000)
                    throw TemplateError("truncate length must be 1..1000 at position " + std::to_string(nStart), nStart);
                f.arg = n;
                skipSpace(s, i);
            } else if (i < s.size() && s[i] == ':') {
                throw TemplateError("Filter '" + f.name + "' takes no argument at position " + std::to_string(i), i);
            }
            p.filters.push_back(f);
        }
        if (i >= s.size()) throw TemplateError("Unterminated ${ at position " + std::to_string(open), open);
        if (s[i] != '}') throw TemplateError("Expected '}' or '|' at position " + std::to_string(i), i);
        ++i;
        flush();
        t.parts_.push_back(std::move(p));
    }
    flush();
    return t;
}

std::string RuleTemplate::render(const std::map<std::string, std::string>& values) const {
    std::string out;
    for (auto& p : parts_) {
        if (!p.isVar) {
            out += p.text;
            continue;
        }
        auto it = values.find(p.text);
        std::string v = it == values.end() ? std::string() : it->second;
        for (auto& f : p.filters) {
            if (f.name == "slug") v = applySlug(v);
            else if (f.name == "lower")
                for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            else if (f.name == "upper")
                for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            else if (f.name == "truncate") v = truncateUtf8(v, f.arg);
        }
        out += v;
    }
    return out;
}

}  // namespace atelier::config
