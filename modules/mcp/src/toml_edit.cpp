#include "toml_edit.hpp"

#include <toml++/toml.h>

#include <cstdio>
#include <sstream>
#include <vector>

namespace atelier::mcp::toml_edit {

namespace {

toml::table parseToml(const std::string& text) {
    try {
        return toml::parse(text);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << "not valid TOML: " << e.description() << " (line " << e.source().begin.line << ")";
        throw ConfigSyntaxError(os.str());
    }
}

Poco::Dynamic::Var toJson(const toml::node& n) {
    if (auto t = n.as_table()) {
        JsonObject o = makeObject();
        for (auto& [k, v] : *t) o->set(std::string(k.str()), toJson(v));
        return o;
    }
    if (auto a = n.as_array()) {
        JsonArray arr = makeArray();
        for (auto& v : *a) arr->add(toJson(v));
        return arr;
    }
    if (auto s = n.value<std::string>()) {
        if (n.is_string()) return *s;
    }
    if (n.is_boolean()) return *n.value<bool>();
    if (n.is_integer()) return *n.value<int64_t>();
    if (n.is_floating_point()) return *n.value<double>();
    std::ostringstream os;  // dates and times: their TOML text
    n.visit([&os](auto&& v) {
        if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> || toml::is_date_time<decltype(v)>)
            os << v;
    });
    return os.str();
}

// Start offsets of the lines that begin outside multi-line strings, with their header key
// path when the line is a table header (`[a.b]` or `[[a.b]]`).
struct Line {
    size_t start = 0;
    bool header = false;
    std::vector<std::string> keys;
};

std::vector<std::string> parseHeaderKeys(const std::string& s, size_t i, size_t end) {
    std::vector<std::string> keys;
    while (i < end && s[i] == '[') ++i;
    std::string cur;
    while (i < end) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            ++i;
        } else if (c == '"' || c == '\'') {
            size_t j = i + 1;
            std::string v;
            while (j < end && s[j] != c) {
                if (c == '"' && s[j] == '\\' && j + 1 < end) {
                    v.push_back(s[j + 1]);
                    j += 2;
                    continue;
                }
                v.push_back(s[j++]);
            }
            cur += v;
            i = j + 1;
        } else if (c == '.') {
            keys.push_back(cur);
            cur.clear();
            ++i;
        } else if (c == ']') {
            break;
        } else {
            cur.push_back(c);
            ++i;
        }
    }
    keys.push_back(cur);
    return keys;
}

std::vector<Line> lines(const std::string& s) {
    std::vector<Line> out;
    size_t i = 0;
    while (i < s.size()) {
        Line ln;
        ln.start = i;
        size_t j = i;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        size_t eol = s.find('\n', i);
        if (eol == std::string::npos) eol = s.size();
        if (j < s.size() && s[j] == '[') {
            ln.header = true;
            ln.keys = parseHeaderKeys(s, j, eol);
        }
        out.push_back(ln);
        // Find this logical line's end, stepping over multi-line strings that span lines.
        size_t k = i;
        while (k < s.size() && s[k] != '\n') {
            if (s.compare(k, 3, "\"\"\"") == 0 || s.compare(k, 3, "'''") == 0) {
                std::string delim = s.substr(k, 3);
                size_t close = k + 3;
                while (true) {
                    close = s.find(delim, close);
                    if (close == std::string::npos) return out;  // parse() already refused this
                    if (delim[0] == '"') {
                        size_t bs = 0;
                        for (size_t b = close; b > 0 && s[b - 1] == '\\'; --b) ++bs;
                        if (bs % 2) {
                            ++close;
                            continue;
                        }
                    }
                    break;
                }
                k = close + 3;
                while (k < s.size() && (s[k] == '"' || s[k] == '\'')) ++k;
            } else if (s[k] == '"' || s[k] == '\'') {
                char q = s[k++];
                while (k < s.size() && s[k] != q && s[k] != '\n') {
                    if (q == '"' && s[k] == '\\') ++k;
                    ++k;
                }
                if (k < s.size() && s[k] == q) ++k;
            } else if (s[k] == '#') {
                while (k < s.size() && s[k] != '\n') ++k;
            } else {
                ++k;
            }
        }
        i = k < s.size() ? k + 1 : s.size();
    }
    return out;
}

bool blankLine(const std::string& s, size_t start, size_t end) {
    for (size_t k = start; k < end; ++k)
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n') return false;
    return true;
}

void appendStringArray(std::string& out, const JsonArray& a) {
    out += "[";
    for (size_t i = 0; i < a->size(); ++i) out += (i ? ", " : "") + quote(a->get(static_cast<unsigned>(i)).toString());
    out += "]";
}

void appendTable(std::string& out, const std::string& header, const JsonObject& o) {
    out += "\n[" + header + "]\n";
    for (auto& k : o->getNames()) out += quote(k) + " = " + quote(o->get(k).toString()) + "\n";
}

}  // namespace

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
                if (c < 0x20 || c == 0x7f) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04X", c);
                    out += b;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    return out + "\"";
}

JsonObject servers(const std::string& text, const std::string& table) {
    auto t = parseToml(text);
    JsonObject out = makeObject();
    if (auto s = t[table].as_table()) {
        for (auto& [k, v] : *s)
            if (v.is_table()) out->set(std::string(k.str()), toJson(v));
    }
    return out;
}

std::optional<std::string> removeServer(const std::string& text, const std::string& table, const std::string& id) {
    auto parsed = parseToml(text);
    if (!parsed[table][id]) return std::nullopt;
    auto ls = lines(text);
    std::string out;
    size_t keptUpTo = 0;  // text[keptUpTo, ...) not yet decided
    bool removedAny = false;
    for (size_t li = 0; li < ls.size(); ++li) {
        const Line& ln = ls[li];
        auto ours = [&](const Line& l) {
            return l.header && l.keys.size() >= 2 && l.keys[0] == table && l.keys[1] == id;
        };
        if (!ours(ln)) continue;
        // The section runs to the next header that is not one of this server's sub-tables.
        size_t end = text.size(), next = ls.size();
        for (size_t nj = li + 1; nj < ls.size(); ++nj)
            if (ls[nj].header && !ours(ls[nj])) {
                end = ls[nj].start;
                next = nj;
                break;
            }
        size_t start = ln.start;
        if (end == text.size()) {  // the last section: also take the blank lines that separated it
            size_t li2 = li;
            while (li2 > 0) {
                size_t ps = ls[li2 - 1].start;
                if (ps < keptUpTo || !blankLine(text, ps, ls[li2].start)) break;
                start = ps;
                --li2;
            }
        }
        out += text.substr(keptUpTo, start - keptUpTo);
        keptUpTo = end;
        removedAny = true;
        li = next - 1;
    }
    out += text.substr(keptUpTo);
    auto check = parseToml(out);
    if (!removedAny || check[table][id])
        throw ConfigSyntaxError("[" + table + "." + id +
                                "] is not defined as its own table (inline or dotted keys); edit it by hand");
    return out;
}

std::string setServer(const std::string& text, const std::string& table, const std::string& id,
                      const JsonObject& server) {
    parseToml(text);
    std::string base = removeServer(text, table, id).value_or(text);
    std::string header =
        table + "." +
        (id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos
             ? id
             : quote(id));
    std::string block = "[" + header + "]\n";
    for (auto& k : server->getNames()) {
        auto v = server->get(k);
        if (v.type() == typeid(JsonObject)) continue;
        if (v.type() == typeid(JsonArray)) {
            block += k + " = ";
            appendStringArray(block, v.extract<JsonArray>());
            block += "\n";
        } else if (v.isBoolean()) {
            block += k + " = " + (v.extract<bool>() ? "true" : "false") + "\n";
        } else {
            block += k + " = " + quote(v.toString()) + "\n";
        }
    }
    for (auto& k : server->getNames()) {
        auto v = server->get(k);
        if (v.type() == typeid(JsonObject) && v.extract<JsonObject>()->size() > 0)
            appendTable(block, header + "." + k, v.extract<JsonObject>());
    }
    std::string out = base;
    if (!out.empty() && out.back() != '\n') out += "\n";
    if (!out.empty()) out += "\n";
    out += block;
    auto check = parseToml(out);
    if (!check[table][id].is_table())
        throw ConfigSyntaxError("[" + table + "] cannot hold a table for " + id + " in this file");
    return out;
}

}  // namespace atelier::mcp::toml_edit
