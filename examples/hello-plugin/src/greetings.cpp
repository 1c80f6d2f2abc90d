#include "greetings.hpp"

#include <atelier/util.hpp>

namespace hello {

std::vector<std::string> Greetings::migrations() {
    return {"CREATE TABLE hello_greetings (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
            " message TEXT NOT NULL, created_at TEXT NOT NULL)"};
}

Greeting Greetings::add(const std::string& name, const std::string& message) {
    Greeting g{0, name, message, atelier::nowIso()};
    g.id = db_.one("INSERT INTO hello_greetings (name, message, created_at) VALUES (?, ?, ?) RETURNING id",
                   {name, message, g.createdAt})
               ->integer("id");
    return g;
}

int64_t Greetings::count() const { return db_.one("SELECT COUNT(*) AS n FROM hello_greetings")->integer("n"); }

}  // namespace hello
