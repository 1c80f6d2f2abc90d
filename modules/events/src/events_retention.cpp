#include "events_retention.hpp"

#include <atelier/util.hpp>

#include <cmath>

namespace atelier::events {

namespace {
// The two parameters, bound once in `args`: the cutoff (ISO, or NULL) and the max bytes (or NULL).
std::string sizedCte(const std::string& table) {
    return "WITH args AS (SELECT ? AS cutoff, ? AS max_bytes), sized AS (SELECT id, created_at,"
           " length(CAST(entry AS BLOB)) AS size FROM " +
           table +
           "), kept AS (SELECT id, size, SUM(size) OVER (ORDER BY id DESC ROWS UNBOUNDED PRECEDING) AS cum"
           " FROM sized, args WHERE args.cutoff IS NULL OR created_at >= args.cutoff), doomed AS (SELECT id, size"
           " FROM sized, args WHERE args.cutoff IS NOT NULL AND created_at < args.cutoff UNION ALL SELECT id, size"
           " FROM kept, args WHERE args.max_bytes IS NOT NULL AND cum > args.max_bytes) ";
}

std::vector<Param> params(std::optional<double> retentionDays, std::optional<double> maxSizeMB) {
    std::optional<std::string> cutoff;
    if (retentionDays) cutoff = isoDaysAgo(*retentionDays);
    std::vector<Param> p{Param(cutoff), Param(nullptr)};
    if (maxSizeMB) p[1].v = static_cast<int64_t>(std::llround(*maxSizeMB * 1024.0 * 1024.0));
    return p;
}
}  // namespace

JsonObject RetentionImpact::toJson() const {
    auto o = makeObject();
    o->set("entriesToRemove", entriesToRemove);
    o->set("bytesToRemove", bytesToRemove);
    o->set("currentEntries", currentEntries);
    o->set("currentBytes", currentBytes);
    return o;
}

std::string isoDaysAgo(double days) {
    return isoFromMillis(nowMillis() - static_cast<int64_t>(std::llround(days * 86400000.0)));
}

bool looksLikeIsoTime(const std::string& s) {
    if (s.size() < 10 || s.size() > 40) return false;
    for (size_t i = 0; i < 10; ++i) {
        char c = s[i];
        if (i == 4 || i == 7) {
            if (c != '-') return false;
        } else if (c < '0' || c > '9') {
            return false;
        }
    }
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '.' || c == '+')) return false;
    return true;
}

RetentionImpact retentionImpact(const Db& db, const std::string& table, std::optional<double> retentionDays,
                                std::optional<double> maxSizeMB) {
    auto row = db.one(sizedCte(table) +
                          "SELECT (SELECT COUNT(*) FROM sized) AS n, (SELECT COALESCE(SUM(size), 0) FROM sized) AS bytes,"
                          " (SELECT COUNT(*) FROM doomed) AS rn, (SELECT COALESCE(SUM(size), 0) FROM doomed) AS rbytes",
                      params(retentionDays, maxSizeMB));
    RetentionImpact r;
    if (!row) return r;
    r.currentEntries = row->integer("n");
    r.currentBytes = row->integer("bytes");
    r.entriesToRemove = row->integer("rn");
    r.bytesToRemove = row->integer("rbytes");
    return r;
}

RetentionImpact retentionSweep(const Db& db, const std::string& table, std::optional<double> retentionDays,
                               std::optional<double> maxSizeMB) {
    RetentionImpact r;
    if (!retentionDays && !maxSizeMB) return r;
    db.transaction([&](const Db& tx) {
        r = retentionImpact(tx, table, retentionDays, maxSizeMB);
        if (r.entriesToRemove == 0) return;
        tx.exec(sizedCte(table) + "DELETE FROM " + table + " WHERE id IN (SELECT id FROM doomed)",
                params(retentionDays, maxSizeMB));
    });
    return r;
}

}  // namespace atelier::events
