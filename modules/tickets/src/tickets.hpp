// Tickets: creation with atomic per-project numbering, listing with every Kombuse filter
// (full-text search included), update through the `ticket.before_update` hook, claims,
// views, counts, the merged timeline and ticket-scoped events.
#pragma once

#include "common.hpp"

namespace tickets {

struct TicketFilter {
    std::optional<std::string> projectId;
    std::optional<std::string> status;
    std::optional<int64_t> priority;
    std::optional<std::string> authorId, assigneeId, claimedById, viewerId, search;
    std::optional<bool> unclaimed, expiredClaims;
    std::optional<int64_t> milestoneId;
    std::vector<int64_t> labelIds;
    std::string sortBy;     // created_at | updated_at | last_activity_at | priority ("" = default)
    std::string sortOrder;  // asc | desc ("" = desc)
    int64_t limit = 50;
    int64_t offset = 0;
};

// Validates raw strings into a filter (400 on bad values).
void validateFilter(const TicketFilter& f);

// The optional fields of a ticket create or update. A Nullable marks a field that was named,
// null included, so that an update can clear it.
struct TicketFields {
    std::optional<std::string> title;
    Nullable bodyP;
    std::optional<std::string> body;
    std::optional<std::string> status;
    Nullable priorityP;
    std::optional<int64_t> priority;
    Nullable assigneeP;
    std::optional<std::string> assigneeId;
    Nullable milestoneP;
    std::optional<int64_t> milestoneId;
    std::optional<bool> triggersEnabled, loopProtectionEnabled;
    Nullable extSourceP, extIdP, extUrlP;
    std::optional<std::string> extSource, extId, extUrl;
};
// Decodes and validates ticket fields (a request body, or the `changes` a
// `ticket.before_update` hook handed back); `create` makes the title required.
TicketFields parseTicketFields(const JsonObject& o, bool create);

struct NewTicket {
    std::string authorId;
    TicketFields fields;  // title set
    std::vector<int64_t> labelIds;
    std::optional<std::string> sessionId;  // the Kombuse session that created it
};
struct TicketUpdate {
    std::optional<std::string> updatedById;
    TicketFields fields;
};
struct ClaimRequest {
    std::string claimerId;
    std::optional<int64_t> durationMinutes;  // none: no expiry
};
struct UnclaimRequest {
    std::optional<std::string> requesterId;
    bool force = false;
};
struct ExtendClaimRequest {
    int64_t additionalMinutes = 0;
    std::optional<std::string> requesterId;
};

class Tickets {
public:
    explicit Tickets(const Store& store) : s_(store) {}

    // `fixedNumber` recreates a ticket under a known number (recovered tasks): 409 when taken;
    // the counter is bumped past it so later numbers stay monotonic.
    JsonObject create(const std::string& projectId, const NewTicket& req,
                      std::optional<int64_t> fixedNumber = {}) const;
    JsonObject get(const std::string& projectId, int64_t number, const std::string& viewerId = {}) const;
    JsonObject update(const std::string& projectId, int64_t number, const TicketUpdate& req) const;
    void remove(const std::string& projectId, int64_t number, const std::string& actorId) const;
    JsonArray list(const TicketFilter& filter) const;
    JsonObject counts(const std::string& projectId) const;

    JsonObject claim(const std::string& projectId, int64_t number, const ClaimRequest& req) const;
    JsonObject unclaim(const std::string& projectId, int64_t number, const UnclaimRequest& req) const;
    JsonObject extendClaim(const std::string& projectId, int64_t number, const ExtendClaimRequest& req) const;
    JsonObject view(const std::string& projectId, int64_t number, const std::string& profileId) const;

    JsonObject timeline(const std::string& projectId, int64_t number, int64_t limit, int64_t offset) const;
    JsonArray events(const std::string& projectId, int64_t number, int64_t limit, int64_t offset) const;

    // The raw row (404 when missing).
    Row requireRow(const std::string& projectId, int64_t number) const;
    std::optional<Row> findRow(const std::string& projectId, int64_t number) const;
    std::optional<Row> findById(int64_t id) const;

    // TicketWithRelations for rows (author, assignee, labels; has_unread with a viewer).
    JsonArray withRelations(const std::vector<Row>& rows, const std::string& viewerId = {}) const;

    // Allocates the next number of a project inside `tx` (never reused).
    static int64_t allocateNumber(const Db& tx, const std::string& projectId);
    // Makes sure the counter is at least `atLeast` + 1 (recovered numbers).
    static void bumpCounter(const Db& tx, const std::string& projectId, int64_t atLeast);

private:
    const Store& s_;
};

JsonObject ticketJson(const Row& r);
// `projectId` is the ticket's: activity entries do not store it.
JsonObject eventJson(const Row& r, const JsonObject& actor, const std::string& projectId);

}  // namespace tickets
