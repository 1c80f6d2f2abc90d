#include "search.hpp"

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

std::string searchSubquery(bool withNumber) {
    std::string sql =
        "SELECT id, MIN(rank) AS rank FROM ("
        " SELECT rowid AS id, bm25(tickets_fts, 5.0, 1.0) AS rank FROM tickets_fts WHERE tickets_fts MATCH ?"
        " UNION ALL"
        // Comment hits rank after title/body hits (bm25 is negative) without scoring every
        // matching comment.
        " SELECT c.ticket_id AS id, 0.0 AS rank FROM tickets_comments_fts"
        "  JOIN tickets_comments c ON c.id = tickets_comments_fts.rowid WHERE tickets_comments_fts MATCH ?";
    if (withNumber) sql += " UNION ALL SELECT id, -1e12 AS rank FROM tickets_items WHERE ticket_number = ?";
    sql += ") GROUP BY id";
    return sql;
}

std::map<int64_t, SearchHit> searchContexts(const Db& db, const std::string& ftsQuery, const std::vector<Row>& tickets,
                                            const std::string& rawQuery) {
    std::map<int64_t, SearchHit> out;
    if (tickets.empty()) return out;
    std::vector<Param> ids;
    for (auto& t : tickets) ids.emplace_back(t.integer("id"));
    if (!ftsQuery.empty()) {
        std::vector<Param> params{ftsQuery};
        params.insert(params.end(), ids.begin(), ids.end());
        auto rows = db.query(
            "SELECT rowid AS id, snippet(tickets_fts, 0, '«', '»', '…', 16) AS ts,"
            " snippet(tickets_fts, 1, '«', '»', '…', 24) AS bs FROM tickets_fts WHERE tickets_fts MATCH ? AND rowid IN (" +
                placeholders(ids.size()) + ")",
            params);
        for (auto& r : rows) {
            auto ts = r.text("ts"), bs = r.text("bs");
            if (ts.find("«") != std::string::npos) out[r.integer("id")] = {ts, "title"};
            else if (bs.find("«") != std::string::npos) out[r.integer("id")] = {bs, "body"};
        }
        std::vector<Param> missing{ftsQuery};
        for (auto& t : tickets)
            if (!out.count(t.integer("id"))) missing.emplace_back(t.integer("id"));
        if (missing.size() > 1) {
            auto crows = db.query(
                "SELECT c.ticket_id AS id, snippet(tickets_comments_fts, 0, '«', '»', '…', 24) AS cs,"
                " bm25(tickets_comments_fts) AS r FROM tickets_comments_fts JOIN tickets_comments c"
                " ON c.id = tickets_comments_fts.rowid WHERE tickets_comments_fts MATCH ? AND c.ticket_id IN (" +
                    placeholders(missing.size() - 1) + ") ORDER BY r",
                missing);
            for (auto& r : crows) {
                auto id = r.integer("id");
                if (!out.count(id)) out[id] = {r.text("cs"), "comment"};
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
