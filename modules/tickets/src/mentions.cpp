#include "mentions.hpp"

#include <cctype>
#include <set>

namespace tickets {

namespace {

bool isWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
bool isIdChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':'; }

// Length of the backtick run starting at i.
size_t tickRun(std::string_view s, size_t i) {
    size_t n = 0;
    while (i + n < s.size() && s[i + n] == '`') ++n;
    return n;
}

}  // namespace

std::vector<ParsedMention> parseMentions(std::string_view s) {
    std::vector<ParsedMention> out;
    std::set<std::string> seen;
    size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (c == '`') {
            // A run of n backticks opens a code span (or a fence) closed by a run of exactly n.
            size_t n = tickRun(s, i);
            size_t j = i + n;
            size_t close = std::string_view::npos;
            while (j < s.size()) {
                if (s[j] == '`') {
                    size_t m = tickRun(s, j);
                    if (m == n) {
                        close = j;
                        break;
                    }
                    j += m;
                } else {
                    ++j;
                }
            }
            if (close == std::string_view::npos) {
                i += n;  // unmatched: literal backticks
            } else {
                i = close + n;
            }
            continue;
        }
        if (c == '@' && i + 1 < s.size() && s[i + 1] == '[') {
            size_t nameEnd = s.find(']', i + 2);
            if (nameEnd != std::string_view::npos && nameEnd - (i + 2) <= 200 && nameEnd > i + 2 &&
                s.substr(i + 2, nameEnd - i - 2).find('\n') == std::string_view::npos && nameEnd + 1 < s.size() &&
                s[nameEnd + 1] == '(') {
                size_t k = nameEnd + 2;
                while (k < s.size() && isIdChar(s[k]) && k - (nameEnd + 2) <= 128) ++k;
                if (k < s.size() && s[k] == ')' && k > nameEnd + 2) {
                    std::string id(s.substr(nameEnd + 2, k - nameEnd - 2));
                    if (seen.insert("p:" + id).second)
                        out.push_back({"profile", id, 0, std::string(s.substr(i, k + 1 - i))});
                    i = k + 1;
                    continue;
                }
            }
        }
        if (c == '#') {
            bool boundary = i == 0 || !(isWordChar(s[i - 1]) || s[i - 1] == '#' || s[i - 1] == '&' || s[i - 1] == '/');
            size_t k = i + 1;
            while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
            size_t digits = k - i - 1;
            bool endOk = k >= s.size() || !isWordChar(s[k]);
            if (boundary && digits >= 1 && digits <= 12 && endOk && s[i + 1] != '0') {
                int64_t n = std::stoll(std::string(s.substr(i + 1, digits)));
                if (seen.insert("t:" + std::to_string(n)).second)
                    out.push_back({"ticket", "", n, std::string(s.substr(i, k - i))});
                i = k;
                continue;
            }
        }
        ++i;
    }
    return out;
}

}  // namespace tickets
