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

// The token under which both full-text indexes file a project (their `scope` column): 'p',
// the hex of the id's bytes, '0'. One token whatever the id holds, and ending in a digit so
// the porter stemmer leaves it as it is. Migration 6 builds the same value in SQL.
std::string scopeToken(const std::string& projectId);

// The MATCH expression for the user's query over `columns` ("{title body}" for tickets_fts,
// "body" for tickets_comments_fts), restricted to a project's documents when one is given:
// the index then visits and ranks only that project's matches. `ftsQuery` empty matches nothing.
std::string matchExpression(const std::string& ftsQuery, const std::string& columns,
                            const std::optional<std::string>& projectId);

// SQL yielding (id, rank) of matching tickets, each id once. Binds the tickets MATCH
// expression, then the comments one when `withComments`, then the number when `withNumber`
// and the project when `numberInProject`. Title/body hits rank by bm25 (negative), comment
// hits at 0.0 after them, the ticket with that number first.
std::string searchSubquery(bool withComments, bool withNumber, bool numberInProject);

struct SearchHit {
    std::string context;
    std::string source;  // title | body | comment
};

// Highlighted snippets for the given tickets (the page being returned), looked up in the
// project's part of the indexes when `projectId` is given.
std::map<int64_t, SearchHit> searchContexts(const Db& db, const std::string& ftsQuery, const std::vector<Row>& tickets,
                                            const std::string& rawQuery, const std::optional<std::string>& projectId);

}  // namespace tickets
