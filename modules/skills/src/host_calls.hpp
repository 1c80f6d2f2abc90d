// Calls into other modules' public routes, turning their answers into domain errors.
#pragma once

#include <atelier/sdk.hpp>

#include "domain_error.hpp"

namespace atelier::skills {

// Returns the parsed JSON answer (null for 204); 4xx answers become the matching DomainError
// with the other module's code, anything else (missing module, 5xx) is Unavailable.
inline Poco::Dynamic::Var callJson(const Host& host, std::string_view method, const std::string& path,
                                   const JsonObject& body = nullptr) {
    auto r = host.call(method, path, body ? toJson(body) : std::string());
    if (r.status == 204) return {};
    Poco::Dynamic::Var v;
    try {
        if (!r.body.empty()) v = Poco::JSON::Parser().parse(r.body);
    } catch (...) {
    }
    if (r.status >= 200 && r.status < 300) return v;
    std::string code = "UPSTREAM_ERROR", message = "call to " + path + " failed (" + std::to_string(r.status) + ")";
    if (v.type() == typeid(JsonObject)) {
        auto o = v.extract<JsonObject>();
        code = o->optValue<std::string>("code", code);
        message = o->optValue<std::string>("error", message);
    }
    if (r.status == 404 && code == "NOT_FOUND" && message.find("No route") != std::string::npos)
        throw unavailable("MODULE_UNAVAILABLE", "The module serving " + path + " is not loaded");
    if (r.status == 400) throw DomainError(DomainError::Kind::Invalid, code, message);
    if (r.status == 404) throw notFoundError(code, message);
    if (r.status == 409) throw conflictError(code, message);
    throw unavailable(code, message);
}

}  // namespace atelier::skills
