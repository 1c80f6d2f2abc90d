// Errors raised by the config domain code; module.cpp maps them to HTTP answers.
#pragma once

#include <stdexcept>
#include <string>

namespace atelier::config {

struct DomainError : std::runtime_error {
    enum class Kind { Invalid, NotFound, Conflict, Failed };
    DomainError(Kind k, std::string c, const std::string& message, std::string f = {}, long pos = -1)
        : std::runtime_error(message), kind(k), code(std::move(c)), field(std::move(f)), position(pos) {}
    Kind kind;
    std::string code;
    std::string field;   // offending field, if any
    long position = -1;  // offending position in a template, if any
};

inline DomainError invalid(const std::string& field, const std::string& message, std::string code = "VALIDATION_ERROR") {
    return DomainError(DomainError::Kind::Invalid, std::move(code), message, field);
}

}  // namespace atelier::config
