// The failure type of the first-party modules' domain code. The domain names what went wrong
// (a kind, a stable code, the fields at fault); only the registration layer turns a kind into
// an HTTP status, through mapDomainErrors().
#pragma once

#include <atelier/sdk.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace atelier::shared {

class DomainError : public std::runtime_error {
public:
    enum class Kind {
        Invalid,      // the input is wrong, or the operation failed on it
        NotFound,     // a referenced thing does not exist
        Conflict,     // the current state forbids it
        Refused,      // well-formed but refused (a hook veto)
        Unavailable,  // a collaborating module is not there, or the server is stopping
        StorageFull,  // a file could not be stored
        Unsupported,  // this installation cannot do it
        Upstream,     // a collaborating module refused; its status is forwarded
    };
    DomainError(Kind kind, std::string code, const std::string& message, std::vector<ErrorDetail> details = {})
        : std::runtime_error(message), kind(kind), code(std::move(code)), details(std::move(details)) {}
    Kind kind;
    std::string code;
    std::vector<ErrorDetail> details;
    JsonObject extra;        // extra top-level fields of the answer (e.g. the conflicting ticket)
    int upstreamStatus = 0;  // Kind::Upstream only
};

inline HttpError toHttp(const DomainError& e) {
    using K = DomainError::Kind;
    int status = e.kind == K::Upstream   ? (e.upstreamStatus >= 400 && e.upstreamStatus < 600 ? e.upstreamStatus : 502)
                 : e.kind == K::NotFound ? 404
                 : e.kind == K::Conflict ? 409
                 : e.kind == K::Refused  ? 422
                 : e.kind == K::Unavailable ? 503
                 : e.kind == K::StorageFull ? 507
                 : e.kind == K::Unsupported ? 501
                                            : 400;
    HttpError http(status, e.code, e.what(), e.details);
    http.extra = e.extra;
    return http;
}

// A handler whose DomainErrors leave as the uniform HTTP error shape.
inline Module::Handler mapDomainErrors(Module::Handler h) {
    return [h = std::move(h)](Request& req, Response& res) {
        try {
            h(req, res);
        } catch (const DomainError& e) {
            throw toHttp(e);
        }
    };
}

// A module whose every route maps DomainErrors (get/post/put/patch/del wrap the handler, with or
// without a flavor set).
class DomainModule : public Module {
protected:
    void get(std::string_view p, std::string_view s, Handler h) { Module::get(p, s, mapDomainErrors(std::move(h))); }
    void post(std::string_view p, std::string_view s, Handler h) { Module::post(p, s, mapDomainErrors(std::move(h))); }
    void put(std::string_view p, std::string_view s, Handler h) { Module::put(p, s, mapDomainErrors(std::move(h))); }
    void patch(std::string_view p, std::string_view s, Handler h) {
        Module::patch(p, s, mapDomainErrors(std::move(h)));
    }
    void del(std::string_view p, std::string_view s, Handler h) { Module::del(p, s, mapDomainErrors(std::move(h))); }
    void get(std::string_view p, std::string_view s, Flavors f, Handler h) {
        Module::get(p, s, f, mapDomainErrors(std::move(h)));
    }
    void post(std::string_view p, std::string_view s, Flavors f, Handler h) {
        Module::post(p, s, f, mapDomainErrors(std::move(h)));
    }
    void put(std::string_view p, std::string_view s, Flavors f, Handler h) {
        Module::put(p, s, f, mapDomainErrors(std::move(h)));
    }
    void patch(std::string_view p, std::string_view s, Flavors f, Handler h) {
        Module::patch(p, s, f, mapDomainErrors(std::move(h)));
    }
    void del(std::string_view p, std::string_view s, Flavors f, Handler h) {
        Module::del(p, s, f, mapDomainErrors(std::move(h)));
    }
};

}  // namespace atelier::shared
