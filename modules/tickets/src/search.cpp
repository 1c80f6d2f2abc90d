#include "search.hpp"

#include <algorithm>
#include <climits>

namespace tickets {

std::string buildFtsQuery(const std::string& input) {
    if (input.size() > kMaxSearchLength)
        throw validation("search", "must be at most " + std::to_string(kMaxSearchLength) + " characters");
    std::vector<std::string> tokens;
    std::string cur;
    auto flush = [&] {
        if (!cur.empty() && tokens.size() < 32) tokens.push_back(cur);
        cur.clear();
    };
    for (unsigned char c : input) {
        if (std::isalnum(c) || c == '_' || c >= 0x80) cur.push_back(static_cast<char>(c));
        else flush();
    }
    flush();
    // Only the last token matches as a prefix (search as you type); prefix scans over a
    // large index are the expensive part of a query.
    std::string q;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (!q.empty()) q += ' ';
        q += '"' + tokens[i] + '"';
        if (i + 1 == tokens.size() && tokens[i].size() >= 3) q += '*';
    }
    return q;
}

bool isNumberQuery(const std::string& input) {
    std::string t;
    for (char c : input)
        if (c != ' ' && c != '#') t.push_back(c);
    if (t.empty() || t.size() > 18) return false;
    for (char c : t)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

std::string scopeToken(const std::string& projectId) {
    static const char* hex = "0123456789ABCDEF";
    std::string t = "p";
    for (unsigned char c : projectId) {
        t += hex[c >> 4];
        t += hex[c & 0xf];
    }
    return t + "0";
}

std::string matchExpression(const std::string& ftsQuery, const std::string& columns,
                            const std::optional<std::string>& projectId) {
    if (ftsQuery.empty()) return "\"\"";
    // The column filter keeps user tokens off the scope column.
    std::string m = columns + " : (" + ftsQuery + ")";
    if (projectId) m = "scope : \"" + scopeToken(*projectId) + "\" AND " + m;
    return m;
}

std::string searchSubquery(bool withComments, bool withNumber, bool numberInProject) {
    // The scope column weighs nothing in the ranking.
    std::string tickets =
        "SELECT rowid AS id, bm25(tickets_fts, 5.0, 1.0, 0.0) AS rank FROM tickets_fts WHERE tickets_fts MATCH ?";
    // FTS5 rowids are unique: a lone arm needs no grouping (and a GROUP BY would move bm25 out
    // of the FTS cursor's reach).
    if (!withComments && !withNumber) return tickets;
    std::string sql = "SELECT id, MIN(rank) AS rank FROM (" + tickets;
    // Comment hits rank after title/body hits (bm25 is negative) without scoring every
    // matching comment. CROSS JOIN keeps the index as the outer loop.
    if (withComments)
        sql +=
            " UNION ALL SELECT c.ticket_id AS id, 0.0 AS rank FROM tickets_comments_fts CROSS JOIN tickets_comments c"
            " ON c.id = tickets_comments_fts.rowid WHERE tickets_comments_fts MATCH ?";
    if (withNumber) {
        sql += " UNION ALL SELECT id, -1e12 AS rank FROM tickets_items WHERE ticket_number = ?";
        if (numberInProject) sql += " AND project_id = ?";
    }
    sql += ") GROUP BY id";
    return sql;
}

std::map<int64_t, SearchHit> searchContexts(const Db& db, const std::string& ftsQuery, const std::vector<Row>& tickets,
                                            const std::string& rawQuery, const std::optional<std::string>& projectId) {
    std::map<int64_t, SearchHit> out;
    if (tickets.empty()) return out;
    std::vector<Param> ids;
    for (auto& t : tickets) ids.emplace_back(t.integer("id"));
    if (!ftsQuery.empty()) {
        // `+rowid IN` is checked on the scan's rows: as an index constraint it would run the
        // match (prefix expansion included) once per id. The range narrows the scan.
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (auto& t : tickets) lo = std::min(lo, t.integer("id")), hi = std::max(hi, t.integer("id"));
        std::vector<Param> params{matchExpression(ftsQuery, "{title body}", projectId), lo, hi};
        params.insert(params.end(), ids.begin(), ids.end());
        auto rows = db.query(
            "SELECT rowid AS id, snippet(tickets_fts, 0, '«', '»', '…', 16) AS ts,"
            " snippet(tickets_fts, 1, '«', '»', '…', 24) AS bs FROM tickets_fts WHERE tickets_fts MATCH ?"
            " AND rowid BETWEEN ? AND ? AND +rowid IN (" +
                placeholders(ids.size()) + ")",
            params);
        for (auto& r : rows) {
            auto ts = r.text("ts"), bs = r.text("bs");
            if (ts.find("«") != std::string::npos) out[r.integer("id")] = {ts, "title"};
            else if (bs.find("«") != std::string::npos) out[r.integer("id")] = {bs, "body"};
        }
        std::vector<Param> missing;
        for (auto& t : tickets)
            if (!out.count(t.integer("id"))) missing.emplace_back(t.integer("id"));
        if (!missing.empty()) {
            // The best-ranked matching comment of each. Their comment ids (from the ticket
            // index) bound the scan by rowid; a project-wide scope phrase would cost bm25 a
            // pass over every document of the project. Too many for one statement: a scan of
            // the project's matches instead.
            constexpr size_t kMaxCommentIds = 2000;
            auto cids = db.query(
                "SELECT id, ticket_id FROM tickets_comments WHERE ticket_id IN (" + placeholders(missing.size()) + ")",
                missing);
            if (cids.size() <= kMaxCommentIds) {
                std::map<int64_t, int64_t> ticketOf;
                int64_t lo = INT64_MAX, hi = INT64_MIN;
                std::vector<Param> ps{matchExpression(ftsQuery, "body", std::nullopt), 0, 0};
                for (auto& c : cids) {
                    int64_t cid = c.integer("id");
                    ticketOf[cid] = c.integer("ticket_id");
                    lo = std::min(lo, cid), hi = std::max(hi, cid);
                    ps.emplace_back(cid);
                }
                if (!cids.empty()) {
                    ps[1] = lo, ps[2] = hi;
                    for (auto& r :
                         db.query("SELECT rowid AS cid, snippet(tickets_comments_fts, 0, '«', '»', '…', 24) AS cs,"
                                  " bm25(tickets_comments_fts, 1.0, 0.0) AS r FROM tickets_comments_fts"
                                  " WHERE tickets_comments_fts MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN (" +
                                      placeholders(cids.size()) + ") ORDER BY r, rowid",
                                  ps)) {
                        auto id = ticketOf[r.integer("cid")];
                        if (!out.count(id)) out[id] = {r.text("cs"), "comment"};
                    }
                }
            } else {
                std::vector<Param> ps{matchExpression(ftsQuery, "body", projectId)};
                ps.insert(ps.end(), missing.begin(), missing.end());
                for (auto& r : db.query(
                         "SELECT c.ticket_id AS id, snippet(tickets_comments_fts, 0, '«', '»', '…', 24) AS cs,"
                         " bm25(tickets_comments_fts, 1.0, 0.0) AS r FROM tickets_comments_fts CROSS JOIN"
                         " tickets_comments c ON c.id = tickets_comments_fts.rowid WHERE tickets_comments_fts MATCH ?"
                         " AND c.ticket_id IN (" +
                             placeholders(missing.size()) + ") ORDER BY r, c.id",
                         ps)) {
                    auto id = r.integer("id");
                    if (!out.count(id)) out[id] = {r.text("cs"), "comment"};
                }
            }
        }
    }
    if (isNumberQuery(rawQuery)) {
        for (auto& t : tickets) {
            auto id = t.integer("id");
            if (out.count(id)) continue;
            out[id] = {"«#" + t.text("ticket_number") + "» " + t.text("title"), "title"};
        }
    }
    return out;
}

}  // namespace tickets
