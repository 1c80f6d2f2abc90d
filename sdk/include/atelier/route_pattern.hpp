// Route pattern matching shared by the host and the fake host. Header-only, no dependencies
// beyond the standard library, so both sides match routes identically.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atelier::route {

using Params = std::vector<std::pair<std::string, std::string>>;

inline std::vector<std::string_view> splitPath(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        size_t j = i;
        while (j < path.size() && path[j] != '/') ++j;
        if (j > i) parts.push_back(path.substr(i, j - i));
        i = j;
    }
    return parts;
}

inline int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decoding; `plusIsSpace` for query strings.
inline std::string percentDecode(std::string_view in, bool plusIsSpace = false) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%' && i + 2 < in.size()) {
            int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plusIsSpace && c == '+' ? ' ' : c);
    }
    return out;
}

// A compiled pattern such as "/api/projects/:id/repos/:repoId" or "/static/*".
class Pattern {
public:
    Pattern() = default;
    explicit Pattern(std::string_view pattern) : text_(pattern) {
        for (auto seg : splitPath(pattern)) segments_.emplace_back(seg);
    }

    const std::string& text() const { return text_; }
    size_t segmentCount() const { return segments_.size(); }
    bool hasWildcard() const { return !segments_.empty() && segments_.back() == "*"; }
    size_t paramCount() const {
        size_t n = 0;
        for (auto& s : segments_) n += (!s.empty() && s[0] == ':') ? 1 : 0;
        return n;
    }

    // Matches a decoded-segment path; fills params on success. Parameters never match an
    // empty segment. A trailing "*" matches one or more remaining segments ("*" param).
    bool match(const std::vector<std::string_view>& parts, Params& params) const {
        params.clear();
        size_t n = segments_.size();
        bool wild = hasWildcard();
        if (wild ? parts.size() < n : parts.size() != n) return false;
        for (size_t i = 0; i < n; ++i) {
            const std::string& seg = segments_[i];
            if (wild && i == n - 1) {
                std::string rest;
                for (size_t k = i; k < parts.size(); ++k) {
                    if (k > i) rest.push_back('/');
                    rest += percentDecode(parts[k]);
                }
                params.emplace_back("*", std::move(rest));
                return true;
            }
            if (!seg.empty() && seg[0] == ':') {
                params.emplace_back(seg.substr(1), percentDecode(parts[i]));
            } else if (seg != parts[i]) {
                return false;
            }
        }
        return true;
    }

    // Static segments outrank parameters, so "/api/tickets/counts" wins over
    // "/api/tickets/:id". Higher is more specific.
    long specificity() const {
        long score = 0;
        for (auto& s : segments_) {
            score *= 4;
            if (s == "*") score += 0;
            else if (!s.empty() && s[0] == ':') score += 1;
            else score += 2;
        }
        return score;
    }

private:
    std::string text_;
    std::vector<std::string> segments_;
};

// Parses "a=1&b=two" into decoded pairs (later duplicates kept in order).
inline Params parseQuery(std::string_view qs) {
    Params out;
    size_t i = 0;
    while (i <= qs.size() && !qs.empty()) {
        size_t amp = qs.find('&', i);
        if (amp == std::string_view::npos) amp = qs.size();
        std::string_view kv = qs.substr(i, amp - i);
        if (!kv.empty()) {
            size_t eq = kv.find('=');
            if (eq == std::string_view::npos)
                out.emplace_back(percentDecode(kv, true), std::string());
            else
                out.emplace_back(percentDecode(kv.substr(0, eq), true),
                                 percentDecode(kv.substr(eq + 1), true));
        }
        if (amp >= qs.size()) break;
        i = amp + 1;
    }
    return out;
}

}  // namespace atelier::route
