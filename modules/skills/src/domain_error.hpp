// Errors raised by the skills domain code; module.cpp maps them to HTTP answers.
#pragma once

#include <stdexcept>
#include <string>

namespace atelier::skills {

struct DomainError : std::runtime_error {
    enum class Kind { Invalid, NotFound, Conflict, Forbidden, Unavailable, TooLarge };
    DomainError(Kind k, std::string c, const std::string& message, std::string f = {})
        : std::runtime_error(message), kind(k), code(std::move(c)), field(std::move(f)) {}
    Kind kind;
    std::string code;
    std::string field;  // offending request field, if any
};

inline DomainError invalid(const std::string& field, const std::string& message,
                           std::string code = "VALIDATION_ERROR") {
    return DomainError(DomainError::Kind::Invalid, std::move(code), field.empty() ? message : field + " " + message,
                       field);
}
inline DomainError notFoundError(std::string code, const std::string& message) {
    return DomainError(DomainError::Kind::NotFound, std::move(code), message);
}
inline DomainError conflictError(std::string code, const std::string& message) {
    return DomainError(DomainError::Kind::Conflict, std::move(code), message);
}
inline DomainError unavailable(std::string code, const std::string& message) {
    return DomainError(DomainError::Kind::Unavailable, std::move(code), message);
}

}  // namespace atelier::skills
