// The registration layer's side of the typed edge: request bodies decoded and validated into
// the domain's request types. Invalid input is a DomainError (Invalid) naming the field.
#pragma once

#include "tickets.hpp"

namespace tickets {

NewTicket parseNewTicket(const JsonObject& body);
TicketUpdate parseTicketUpdate(const JsonObject& body);
ClaimRequest parseClaim(const JsonObject& body);
UnclaimRequest parseUnclaim(const JsonObject& body);
ExtendClaimRequest parseExtendClaim(const JsonObject& body);

}  // namespace tickets
