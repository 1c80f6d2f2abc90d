// Small helpers every module needs: timestamps, ids, slugs, JSON field access with
// validation. Header-only; part of the SDK.
#pragma once

#include <atelier/sdk.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <string_view>

namespace atelier {

// ISO 8601 UTC with milliseconds and `Z`, e.g. 2026-11-23T06:50:52.123Z.
inline std::string isoFromMillis(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}
inline int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
inline std::string nowIso() { return isoFromMillis(nowMillis()); }

// Percent-encodes all but RFC 3986's unreserved characters: a path segment or a query value
// of a path given to Host::call().
inline std::string urlEncode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    return out;
}

// Random RFC 4122 version-4 UUID.
inline std::string newUuid() {
    thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<uint64_t>(nowMillis())};
    uint64_t a = rng(), b = rng();
    a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    char buf[37];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                  static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
}
// n random lowercase hex characters.
inline std::string randomHex(size_t n) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* digits = "0123456789abcdef";
    std::string out(n, '0');
    for (auto& c : out) c = digits[rng() & 15];
    return out;
}

inline bool isUuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

// kebab-case: lowercase ASCII letters and digits separated by single dashes.
inline std::string slugify(std::string_view in) {
    std::string out;
    bool dash = false;
    for (unsigned char c : in) {
        if (std::isalnum(c)) {
            if (dash && !out.empty()) out.push_back('-');
            out.push_back(static_cast<char>(std::tolower(c)));
            dash = false;
        } else {
            dash = true;
        }
    }
    return out;
}

// Lowercase letters and digits in dash-separated words ("my-project-2"): what slugs must be.
inline bool isKebabCase(std::string_view s) {
    if (s.empty() || s.front() == '-' || s.back() == '-') return false;
    char prev = 0;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (c == '-' && prev == '-')) return false;
        prev = c;
    }
    return true;
}

// ---- JSON body field access with uniform validation errors (400 VALIDATION_ERROR + details)

inline bool has(const JsonObject& o, const std::string& key) { return o && o->has(key) && !o->isNull(key); }

inline std::string requireString(const JsonObject& o, const std::string& key, bool allowEmpty = false) {
    if (!o || !o->has(key) || o->isNull(key))
        throw badRequest(key + " is required", "VALIDATION_ERROR", {{key, "is required"}});
    auto v = o->get(key);
    if (!v.isString()) throw badRequest(key + " must be a string", "VALIDATION_ERROR", {{key, "must be a string"}});
    auto s = v.extract<std::string>();
    if (!allowEmpty && s.empty())
        throw badRequest(key + " must not be empty", "VALIDATION_ERROR", {{key, "must not be empty"}});
    return s;
}
inline std::optional<std::string> optString(const JsonObject& o, const std::string& key) {
    if (!has(o, key)) return std::nullopt;
    auto v = o->get(key);
    if (!v.isString()) throw badRequest(key + " must be a string", "VALIDATION_ERROR", {{key, "must be a string"}});
    return v.extract<std::string>();
}
// A string field of at most `max` bytes; absent and optional → empty string.
inline std::string boundedString(const JsonObject& o, const std::string& key, size_t max, bool required) {
    std::string v;
    if (required) {
        v = requireString(o, key);
    } else {
        auto opt = optString(o, key);
        if (!opt) return {};
        v = *opt;
    }
    if (v.size() > max)
        throw badRequest(key + " must be at most " + std::to_string(max) + " characters", "VALIDATION_ERROR",
                         {{key, "must be at most " + std::to_string(max) + " characters"}});
    return v;
}
inline std::optional<int64_t> optInt(const JsonObject& o, const std::string& key) {
    if (!has(o, key)) return std::nullopt;
    auto v = o->get(key);
    if (!v.isInteger() || v.isBoolean())
        throw badRequest(key + " must be an integer", "VALIDATION_ERROR", {{key, "must be an integer"}});
    return v.convert<int64_t>();
}
inline std::optional<bool> optBool(const JsonObject& o, const std::string& key) {
    if (!has(o, key)) return std::nullopt;
    auto v = o->get(key);
    if (!v.isBoolean()) throw badRequest(key + " must be a boolean", "VALIDATION_ERROR", {{key, "must be a boolean"}});
    return v.extract<bool>();
}
inline JsonObject parseObject(std::string_view text) {
    try {
        auto v = Poco::JSON::Parser().parse(std::string(text));
        if (v.type() == typeid(JsonObject)) return v.extract<JsonObject>();
    } catch (...) {
    }
    return nullptr;
}
inline JsonArray parseArray(std::string_view text) {
    try {
        auto v = Poco::JSON::Parser().parse(std::string(text));
        if (v.type() == typeid(JsonArray)) return v.extract<JsonArray>();
    } catch (...) {
    }
    return nullptr;
}

}  // namespace atelier
