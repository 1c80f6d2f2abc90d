// The registration layer's side of the typed edge: request bodies decoded and validated into
// the domain's request types. Invalid input is a DomainError (Invalid) naming the field.
#pragma once

#include "comments.hpp"
#include "labels.hpp"
#include "milestones.hpp"
#include "profiles.hpp"
#include "tickets.hpp"

namespace tickets {

NewTicket parseNewTicket(const JsonObject& body);
TicketUpdate parseTicketUpdate(const JsonObject& body);
ClaimRequest parseClaim(const JsonObject& body);
UnclaimRequest parseUnclaim(const JsonObject& body);
ExtendClaimRequest parseExtendClaim(const JsonObject& body);
NewComment parseNewComment(const JsonObject& body);
CommentEdit parseCommentEdit(const JsonObject& body);
NewLabel parseNewLabel(const JsonObject& body);
LabelUpdate parseLabelUpdate(const JsonObject& body);
NewMilestone parseNewMilestone(const JsonObject& body);
MilestoneUpdate parseMilestoneUpdate(const JsonObject& body);
NewProfile parseNewProfile(const JsonObject& body);
ProfileUpdate parseProfileUpdate(const JsonObject& body);
ProfileSetting parseProfileSetting(const JsonObject& body);

}  // namespace tickets
