#include "jsonc_edit.hpp"

#include <cstdio>

namespace atelier::mcp::jsonc {

namespace {

bool isWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skipString(const std::string& s, size_t i) {  // i at the opening quote; returns past the closing one
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            return i + 1;
    }
    throw ConfigSyntaxError("unterminated string");
}

size_t skipWs(const std::string& s, size_t i) {
    while (i < s.size() && isWs(s[i])) ++i;
    return i;
}

struct Member {
    std::string key;
    size_t keyStart = 0, valueStart = 0, valueEnd = 0;
};

size_t skipValue(const std::string& s, size_t i);

// Members of the object whose '{' is at `open` (in the strict text); `close` gets the '}'.
std::vector<Member> scanObject(const std::string& s, size_t open, size_t* close) {
    std::vector<Member> out;
    size_t i = skipWs(s, open + 1);
    while (i < s.size() && s[i] != '}') {
        if (s[i] != '"') throw ConfigSyntaxError("expected a key at offset " + std::to_string(i));
        Member m;
        m.keyStart = i;
        size_t keyEnd = skipString(s, i);
        std::string raw = s.substr(i, keyEnd - i);
        if (raw.find('\\') == std::string::npos)
            m.key = raw.substr(1, raw.size() - 2);
        else
            m.key = Poco::JSON::Parser().parse("[" + raw + "]").extract<JsonArray>()->getElement<std::string>(0);
        i = skipWs(s, keyEnd);
        if (i >= s.size() || s[i] != ':') throw ConfigSyntaxError("expected ':' at offset " + std::to_string(i));
        m.valueStart = skipWs(s, i + 1);
        m.valueEnd = skipValue(s, m.valueStart);
        out.push_back(m);
        i = skipWs(s, m.valueEnd);
        if (i < s.size() && s[i] == ',') i = skipWs(s, i + 1);
    }
    if (i >= s.size()) throw ConfigSyntaxError("unterminated object");
    if (close) *close = i;
    return out;
}

size_t skipValue(const std::string& s, size_t i) {
    if (i >= s.size()) throw ConfigSyntaxError("unexpected end of file");
    char c = s[i];
    if (c == '"') return skipString(s, i);
    if (c == '{') {
        size_t close = 0;
        scanObject(s, i, &close);
        return close + 1;
    }
    if (c == '[') {
        size_t j = skipWs(s, i + 1);
        while (j < s.size() && s[j] != ']') {
            j = skipWs(s, skipValue(s, j));
            if (j < s.size() && s[j] == ',') j = skipWs(s, j + 1);
        }
        if (j >= s.size()) throw ConfigSyntaxError("unterminated array");
        return j + 1;
    }
    size_t j = i;
    while (j < s.size() && !isWs(s[j]) && s[j] != ',' && s[j] != '}' && s[j] != ']') ++j;
    if (j == i) throw ConfigSyntaxError("unexpected character at offset " + std::to_string(i));
    return j;
}

const Member* findMember(const std::vector<Member>& ms, const std::string& key) {
    for (auto& m : ms)
        if (m.key == key) return &m;
    return nullptr;
}

// Leading whitespace of the line holding `pos` when only whitespace precedes it there.
std::optional<std::string> lineIndent(const std::string& s, size_t pos) {
    size_t start = s.rfind('\n', pos == 0 ? 0 : pos - 1);
    start = start == std::string::npos ? 0 : start + 1;
    for (size_t k = start; k < pos; ++k)
        if (s[k] != ' ' && s[k] != '\t') return std::nullopt;
    return s.substr(start, pos - start);
}

// The indentation the file uses for one level: that of its first indented key line.
std::string indentUnit(const std::string& s) {
    size_t i = 0;
    while ((i = s.find('\n', i)) != std::string::npos) {
        ++i;
        size_t j = i;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        if (j > i && j < s.size() && s[j] == '"') return s.substr(i, j - i);
    }
    return "  ";
}

size_t rootOpen(const std::string& strict) {
    size_t i = skipWs(strict, 0);
    if (i >= strict.size() || strict[i] != '{') throw ConfigSyntaxError("the file is not a JSON object");
    return i;
}

std::string quote(const std::string& v) {
    std::string out = "\"";
    for (unsigned char c : v) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", c);
                    out += b;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    return out + "\"";
}

// Walks `path` from the root; returns the '{' of the deepest existing container and how many
// path segments it covers.
size_t walk(const std::string& strict, const std::vector<std::string>& path, size_t* depthReached) {
    size_t open = rootOpen(strict);
    size_t d = 0;
    for (; d < path.size(); ++d) {
        auto ms = scanObject(strict, open, nullptr);
        auto* m = findMember(ms, path[d]);
        if (!m) break;
        if (strict[m->valueStart] != '{') throw ConfigSyntaxError("\"" + path[d] + "\" is not an object");
        open = m->valueStart;
    }
    *depthReached = d;
    return open;
}

}  // namespace

std::string toStrict(const std::string& text) {
    std::string s = text;
    for (size_t i = 0; i < s.size();) {
        if (s[i] == '"') {
            i = skipString(s, i);
        } else if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '/') {
            while (i < s.size() && s[i] != '\n') s[i++] = ' ';
        } else if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            size_t end = s.find("*/", i + 2);
            if (end == std::string::npos) throw ConfigSyntaxError("unterminated comment");
            for (; i < end + 2; ++i)
                if (s[i] != '\n') s[i] = ' ';
        } else {
            ++i;
        }
    }
    for (size_t i = 0; i < s.size();) {
        if (s[i] == '"') {
            i = skipString(s, i);
            continue;
        }
        if (s[i] == ',') {
            size_t j = skipWs(s, i + 1);
            if (j < s.size() && (s[j] == '}' || s[j] == ']')) s[i] = ' ';
        }
        ++i;
    }
    return s;
}

JsonObject parseObject(const std::string& text) {
    std::string strict = toStrict(text);
    if (strict.find_first_not_of(" \t\r\n") == std::string::npos) return makeObject();
    Poco::Dynamic::Var v;
    try {
        Poco::JSON::Parser p;
        v = p.parse(strict);
    } catch (const Poco::Exception& e) {
        throw ConfigSyntaxError("not valid JSON: " + e.message());
    }
    if (v.type() != typeid(JsonObject)) throw ConfigSyntaxError("the file is not a JSON object");
    return v.extract<JsonObject>();
}

JsonObject objectAt(const JsonObject& root, const std::vector<std::string>& path) {
    JsonObject cur = root;
    for (auto& k : path) {
        if (!cur || !cur->has(k) || cur->get(k).type() != typeid(JsonObject)) return nullptr;
        cur = cur->getObject(k);
    }
    return cur;
}

std::string render(const Poco::Dynamic::Var& v, const std::string& unit, int depth) {
    auto ind = [&](int d) {
        std::string s;
        for (int k = 0; k < d; ++k) s += unit;
        return s;
    };
    if (v.isEmpty()) return "null";
    if (v.type() == typeid(JsonObject)) {
        auto o = v.extract<JsonObject>();
        auto names = o->getNames();
        if (names.empty()) return "{}";
        std::string out = "{\n";
        for (size_t i = 0; i < names.size(); ++i) {
            out += ind(depth + 1) + quote(names[i]) + ": " + render(o->get(names[i]), unit, depth + 1);
            out += i + 1 < names.size() ? ",\n" : "\n";
        }
        return out + ind(depth) + "}";
    }
    if (v.type() == typeid(JsonArray)) {
        auto a = v.extract<JsonArray>();
        std::string out = "[";
        for (size_t i = 0; i < a->size(); ++i)
            out += (i ? ", " : "") + render(a->get(static_cast<unsigned>(i)), unit, depth);
        return out + "]";
    }
    if (v.isString()) return quote(v.extract<std::string>());
    if (v.isBoolean()) return v.extract<bool>() ? "true" : "false";
    return v.toString();
}

std::string setMember(const std::string& text, const std::vector<std::string>& path, const std::string& key,
                      const Poco::Dynamic::Var& value) {
    std::string unit = indentUnit(text);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        JsonObject inner = makeObject();
        inner->set(key, value);
        Poco::Dynamic::Var cur = inner;
        for (auto it = path.rbegin(); it != path.rend(); ++it) {
            JsonObject o = makeObject();
            o->set(*it, cur);
            cur = o;
        }
        return render(cur, unit, 0) + "\n";
    }
    parseObject(text);  // refuses what is not JSONC before anything is touched
    std::string strict = toStrict(text);
    size_t reached = 0;
    size_t open = walk(strict, path, &reached);
    std::string memberKey = key;
    Poco::Dynamic::Var memberValue = value;
    if (reached < path.size()) {  // build the missing containers around the value
        JsonObject inner = makeObject();
        inner->set(key, value);
        Poco::Dynamic::Var cur = inner;
        for (size_t k = path.size() - 1; k > reached; --k) {
            JsonObject o = makeObject();
            o->set(path[k], cur);
            cur = o;
        }
        memberKey = path[reached];
        memberValue = cur;
    }
    size_t close = 0;
    auto ms = scanObject(strict, open, &close);
    // The rendered value with its continuation lines under the member's own indentation.
    auto shifted = [&](const std::string& base) {
        std::string rendered = render(memberValue, unit, 0), out;
        for (char c : rendered) {
            out.push_back(c);
            if (c == '\n') out += base;
        }
        return out;
    };
    auto indentRender = [&](const std::string& base) { return quote(memberKey) + ": " + shifted(base); };
    if (auto* m = findMember(ms, memberKey)) {
        std::string base = lineIndent(text, m->keyStart).value_or(unit);
        return text.substr(0, m->valueStart) + shifted(base) + text.substr(m->valueEnd);
    }
    if (!ms.empty()) {
        const Member& last = ms.back();
        std::string base = lineIndent(text, last.keyStart).value_or(lineIndent(text, open).value_or("") + unit);
        return text.substr(0, last.valueEnd) + ",\n" + base + indentRender(base) + text.substr(last.valueEnd);
    }
    // The container's own line indentation: that of the line where it starts.
    size_t ls = text.rfind('\n', open == 0 ? 0 : open - 1);
    ls = ls == std::string::npos ? 0 : ls + 1;
    size_t le = ls;
    while (le < text.size() && (text[le] == ' ' || text[le] == '\t')) ++le;
    std::string outer = text.substr(ls, le - ls);
    std::string base = outer + unit;
    return text.substr(0, open + 1) + "\n" + base + indentRender(base) + "\n" + outer + text.substr(close);
}

std::optional<std::string> removeMember(const std::string& text, const std::vector<std::string>& path,
                                        const std::string& key) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
    parseObject(text);
    std::string strict = toStrict(text);
    size_t reached = 0;
    size_t open = walk(strict, path, &reached);
    if (reached < path.size()) return std::nullopt;
    size_t close = 0;
    auto ms = scanObject(strict, open, &close);
    for (size_t i = 0; i < ms.size(); ++i) {
        if (ms[i].key != key) continue;
        if (ms.size() == 1) return text.substr(0, open + 1) + text.substr(close);
        if (i > 0) return text.substr(0, ms[i - 1].valueEnd) + text.substr(ms[i].valueEnd);
        return text.substr(0, ms[0].keyStart) + text.substr(ms[1].keyStart);
    }
    return std::nullopt;
}

}  // namespace atelier::mcp::jsonc
