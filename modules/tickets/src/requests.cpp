#include "requests.hpp"

namespace tickets {

NewTicket parseNewTicket(const JsonObject& body) {
    NewTicket t;
    t.authorId = stringField(body, "author_id", 200);
    t.fields = parseTicketFields(body, true);
    t.labelIds = intArrayField(body, "label_ids");
    t.sessionId = optStringField(body, "kombuse_session_id", 200);
    return t;
}

TicketUpdate parseTicketUpdate(const JsonObject& body) {
    TicketUpdate u;
    u.updatedById = optStringField(body, "updated_by_id", 200);
    u.fields = parseTicketFields(body, false);
    return u;
}

ClaimRequest parseClaim(const JsonObject& body) {
    ClaimRequest c;
    c.claimerId = stringField(body, "claimer_id", 200);
    c.durationMinutes = intField(body, "duration_minutes");
    return c;
}

UnclaimRequest parseUnclaim(const JsonObject& body) {
    UnclaimRequest u;
    u.requesterId = optStringField(body, "claimer_id", 200);
    if (!u.requesterId) u.requesterId = optStringField(body, "requester_id", 200);
    u.force = boolField(body, "force").value_or(false);
    return u;
}

ExtendClaimRequest parseExtendClaim(const JsonObject& body) {
    ExtendClaimRequest e;
    auto minutes = intField(body, "additional_minutes");
    if (!minutes) throw validation("additional_minutes", "is required");
    e.additionalMinutes = *minutes;
    e.requesterId = optStringField(body, "claimer_id", 200);
    return e;
}

}  // namespace tickets
