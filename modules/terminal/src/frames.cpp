#include "frames.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdio>

namespace atelier::terminal {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t utf8Len(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    size_t n;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) n = 3;
    else if (c >= 0xF0 && c <= 0xF4) n = 4;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (n == 3) {
        if (c == 0xE0 && b(i + 1) < 0xA0) return 0;           // overlong
        if (c == 0xED && b(i + 1) >= 0xA0) return 0;          // surrogates
    } else if (n == 4) {
        if (c == 0xF0 && b(i + 1) < 0x90) return 0;
        if (c == 0xF4 && b(i + 1) >= 0x90) return 0;
    }
    return n;
}

}  // namespace

std::string jsonString(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8 + 2);
    out.push_back('"');
    size_t i = 0;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;  // cut sequence
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t n = utf8Len(s, i);
            if (n == 0) {
                out += "\xEF\xBF\xBD";
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out.push_back('"');
    return out;
}

std::string restoreFrame(std::string_view scrollback) {
    return "{\"type\":\"restore\",\"payload\":" + jsonString(scrollback) + "}";
}

std::string exitFrame(int exitCode) { return "{\"type\":\"exit\",\"exitCode\":" + std::to_string(exitCode) + "}"; }

std::optional<ResizeRequest> parseResize(std::string_view frame) {
    size_t p = frame.find_first_not_of(" \t\r\n");
    if (p == std::string_view::npos || frame[p] != '{') return std::nullopt;
    if (frame.find("resize") == std::string_view::npos) return std::nullopt;
    try {
        auto v = Poco::JSON::Parser().parse(std::string(frame));
        if (v.type() != typeid(Poco::JSON::Object::Ptr)) return std::nullopt;
        auto o = v.extract<Poco::JSON::Object::Ptr>();
        if (!o->has("type") || !o->get("type").isString() || o->getValue<std::string>("type") != "resize")
            return std::nullopt;
        ResizeRequest r;
        auto num = [&](const char* k, int& out) {
            if (!o->has(k)) return false;
            auto x = o->get(k);
            if (!x.isNumeric() || x.isBoolean()) return false;
            double d = x.convert<double>();
            if (d < 1 || d > 1000) return false;
            out = static_cast<int>(d);
            return true;
        };
        r.valid = num("cols", r.cols) && num("rows", r.rows);
        return r;
    } catch (...) {
        return std::nullopt;
    }
}

bool originAllowed(const std::string& origin, const std::string& extraCsv) {
    if (origin.empty()) return true;
    size_t start = 0;
    while (start <= extraCsv.size() && !extraCsv.empty()) {
        size_t comma = extraCsv.find(',', start);
        std::string item = extraCsv.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (item == origin || item == "*") return true;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    auto scheme = origin.find("://");
    if (scheme == std::string::npos) return false;
    std::string proto = origin.substr(0, scheme);
    if (proto != "http" && proto != "https") return false;
    std::string hostport = origin.substr(scheme + 3);
    if (hostport.find('/') != std::string::npos) return false;
    std::string host;
    if (!hostport.empty() && hostport[0] == '[') {
        auto close = hostport.find(']');
        if (close == std::string::npos) return false;
        host = hostport.substr(0, close + 1);
        std::string rest = hostport.substr(close + 1);
        if (!rest.empty() && rest[0] != ':') return false;
    } else {
        host = hostport.substr(0, hostport.find(':'));
    }
    return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

}  // namespace atelier::terminal
