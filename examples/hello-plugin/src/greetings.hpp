// Domain logic of the example: knows nothing about HTTP.
#pragma once

#include <atelier/sdk.hpp>

#include <string>

namespace hello {

struct Greeting {
    int64_t id;
    std::string name;
    std::string message;
    std::string createdAt;
};

class Greetings {
public:
    explicit Greetings(atelier::Db db) : db_(db) {}
    static std::vector<std::string> migrations();
    Greeting add(const std::string& name, const std::string& message);
    int64_t count() const;

private:
    atelier::Db db_;
};

}  // namespace hello
