// Small JSON helpers shared by the agents module's domain files.
#pragma once

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <string>

#include "domain_error.hpp"

namespace agents {

using atelier::JsonArray;
using atelier::JsonObject;

// Parses text as JSON; returns the value or an empty Var on failure.
inline Poco::Dynamic::Var parseAny(const std::string& text) {
    try {
        return Poco::JSON::Parser().parse(text);
    } catch (...) {
        return {};
    }
}

inline JsonObject parseObjectOr(const std::string& text) {
    auto o = atelier::parseObject(text);
    return o ? o : atelier::makeObject();
}

inline std::string str(const JsonObject& o, const std::string& key, const std::string& fallback = {}) {
    if (!o || !o->has(key) || o->isNull(key)) return fallback;
    auto v = o->get(key);
    if (v.isString()) return v.extract<std::string>();
    try {
        return v.convert<std::string>();
    } catch (...) {
        return fallback;
    }
}

inline int64_t num(const JsonObject& o, const std::string& key, int64_t fallback = 0) {
    if (!o || !o->has(key) || o->isNull(key)) return fallback;
    try {
        return o->get(key).convert<int64_t>();
    } catch (...) {
        return fallback;
    }
}

inline double real(const JsonObject& o, const std::string& key, double fallback = 0) {
    if (!o || !o->has(key) || o->isNull(key)) return fallback;
    try {
        return o->get(key).convert<double>();
    } catch (...) {
        return fallback;
    }
}

inline JsonObject obj(const JsonObject& o, const std::string& key) {
    if (!o || !o->has(key)) return nullptr;
    try {
        auto v = o->get(key);
        if (v.type() == typeid(JsonObject)) return v.extract<JsonObject>();
    } catch (...) {
    }
    return nullptr;
}

inline JsonArray arr(const JsonObject& o, const std::string& key) {
    if (!o || !o->has(key)) return nullptr;
    try {
        auto v = o->get(key);
        if (v.type() == typeid(JsonArray)) return v.extract<JsonArray>();
    } catch (...) {
    }
    return nullptr;
}

inline bool isObject(const Poco::Dynamic::Var& v) { return v.type() == typeid(JsonObject); }
inline bool isArray(const Poco::Dynamic::Var& v) { return v.type() == typeid(JsonArray); }

}  // namespace agents
