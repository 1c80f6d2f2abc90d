// The Kombuse event product over the generic envelope: the bus carries no Kombuse field, so
// ticket_id comes from the subject ("ticket/<id>") and ticket_number, comment_id and
// kombuse_session_id from the payload, where the publishing module put them.
#pragma once

#include <atelier/sdk.hpp>
#include <string>
#include <vector>

namespace atelier::events {

struct KombuseFields {
    std::string ticketId, commentId, sessionId;
    int64_t ticketNumber = 0;
};
// Reads the Kombuse fields of an event (and the parsed payload, when it is an object).
KombuseFields kombuseFields(const Event& e, JsonObject* payload = nullptr);

// The Kombuse event shape: {id, event_type, project_id, ticket_id, ticket_number, comment_id,
// actor_id, actor_type, kombuse_session_id, payload, created_at}; empty ids are null and
// digit-string ticket and comment ids are numbers.
std::string kombuseEventJson(const Event& e);

// Topics an event is published under on `/ws` (besides "*"): ticket:<id>,
// ticket:<projectId>:<number>, project:<id>, comment:<id>, session:<id>, and from the
// payload run:<runId>, session:<sessionId>, worktree:<worktreeId>, agent:<agentId>,
// terminal:<terminalId>, connection:<connectionId>.
std::vector<std::string> eventTopics(const Event& e);

}  // namespace atelier::events
