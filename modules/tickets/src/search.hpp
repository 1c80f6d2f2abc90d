// Full-text search over tickets (title, body) and comments: query sanitising and the
// highlighted context of each hit. SQLite FTS5 with the porter tokenizer.
#pragma once

#include "common.hpp"

#include <map>

namespace tickets {

constexpr size_t kMaxSearchLength = 200;

// Turns user input into a safe FTS5 query: only word characters survive, each token is
// quoted (so AND/OR/NOT/NEAR and punctuation are plain words), the last token matches as a
// prefix when it has three or more characters, tokens are ANDed. Empty when nothing searchable remains.
// Throws a validation error for input longer than 200 characters.
std::string buildFtsQuery(const std::string& input);

// True for a non-empty all-digit query (also matches the ticket number).
bool isNumberQuery(const std::string& input);

// SQL yielding (id, rank) of tickets matching the query: binds the FTS query twice, then the
// number when `withNumber`.
std::string searchSubquery(bool withNumber);

struct SearchHit {
    std::string context;
    std::string source;  // title | body | comment
};

// Highlighted snippets for the given tickets.
std::map<int64_t, SearchHit> searchContexts(const Db& db, const std::string& ftsQuery, const std::vector<Row>& tickets,
                                            const std::string& rawQuery);

}  // namespace tickets
