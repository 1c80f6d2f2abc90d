// Failures of the agents domain (the modules' shared DomainError) and their short forms.
#pragma once

#include <atelier/shared/domain_error.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace agents {

using DomainError = atelier::shared::DomainError;

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
