// Failures of the agents domain. The domain names what went wrong; the registration layer
// (module.cpp) alone turns a kind into an HTTP status.
#pragma once

#include <atelier/sdk.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace agents {

class DomainError : public std::runtime_error {
public:
    enum class Kind {
        Invalid,      // the input is wrong, or the operation failed on it (install, push)
        NotFound,     // a referenced agent, run, session or project does not exist
        Conflict,     // the current state forbids it
        Unavailable,  // shutting down
        Unsupported,  // this installation cannot do it (no GitHub CLI)
        Upstream,     // a collaborating module refused; its status is forwarded
    };
    DomainError(Kind kind, std::string code, const std::string& message, std::vector<atelier::ErrorDetail> details = {})
        : std::runtime_error(message), kind(kind), code(std::move(code)), details(std::move(details)) {}
    Kind kind;
    std::string code;
    std::vector<atelier::ErrorDetail> details;
    int upstreamStatus = 0;  // Kind::Upstream only
};

inline DomainError invalidInput(const std::string& message, std::string code = "VALIDATION_ERROR",
                                std::vector<atelier::ErrorDetail> details = {}) {
    return DomainError(DomainError::Kind::Invalid, std::move(code), message, std::move(details));
}
inline DomainError notFound(const std::string& message, std::string code) {
    return DomainError(DomainError::Kind::NotFound, std::move(code), message);
}
inline DomainError conflict(const std::string& message, std::string code) {
    return DomainError(DomainError::Kind::Conflict, std::move(code), message);
}

}  // namespace agents
