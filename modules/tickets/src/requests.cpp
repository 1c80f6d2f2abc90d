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

NewComment parseNewComment(const JsonObject& body) {
    NewComment c;
    c.authorId = stringField(body, "author_id", 200);
    c.body = stringField(body, "body", kMaxCommentBody);
    c.parentId = intField(body, "parent_id");
    c.sessionId = optStringField(body, "kombuse_session_id", 200);
    c.externalSource = optStringField(body, "external_source", 200);
    c.externalId = optStringField(body, "external_id", 500);
    return c;
}

CommentEdit parseCommentEdit(const JsonObject& body) {
    CommentEdit e;
    e.body = stringField(body, "body", kMaxCommentBody);
    e.updatedById = optStringField(body, "updated_by_id", 200);
    return e;
}

NewLabel parseNewLabel(const JsonObject& body) {
    NewLabel l;
    l.name = stringField(body, "name", 100);
    l.color = optStringField(body, "color", 16);
    l.description = optStringField(body, "description", 2000);
    return l;
}

LabelUpdate parseLabelUpdate(const JsonObject& body) {
    LabelUpdate u;
    if (presence(body, "name").present) u.name = stringField(body, "name", 100);
    u.colorP = presence(body, "color");
    u.color = optStringField(body, "color", 16);
    u.descriptionP = presence(body, "description");
    u.description = optStringField(body, "description", 2000);
    u.isEnabled = boolField(body, "is_enabled");
    return u;
}

NewMilestone parseNewMilestone(const JsonObject& body) {
    NewMilestone m;
    m.title = stringField(body, "title", 300);
    m.description = optStringField(body, "description", 10000);
    m.dueDate = optStringField(body, "due_date", 40);
    return m;
}

MilestoneUpdate parseMilestoneUpdate(const JsonObject& body) {
    MilestoneUpdate u;
    if (presence(body, "title").present) u.title = stringField(body, "title", 300);
    u.descriptionP = presence(body, "description");
    u.description = optStringField(body, "description", 10000);
    u.dueDateP = presence(body, "due_date");
    u.dueDate = optStringField(body, "due_date", 40);
    if (presence(body, "status").present) {
        u.status = optStringField(body, "status", 16);
        if (!u.status || (*u.status != "open" && *u.status != "closed"))
            throw validation("status", "must be open or closed");
    }
    return u;
}

NewProfile parseNewProfile(const JsonObject& body) {
    NewProfile p;
    p.type = stringField(body, "type", 16);
    p.name = stringField(body, "name", 200);
    p.id = optStringField(body, "id", 128);
    p.email = optStringField(body, "email", 320);
    p.description = optStringField(body, "description", 5000);
    p.avatarUrl = optStringField(body, "avatar_url", 2000);
    p.externalSource = optStringField(body, "external_source", 200);
    p.externalId = optStringField(body, "external_id", 500);
    p.pluginId = optStringField(body, "plugin_id", 200);
    return p;
}

ProfileUpdate parseProfileUpdate(const JsonObject& body) {
    ProfileUpdate u;
    if (presence(body, "name").present) u.name = stringField(body, "name", 200);
    u.emailP = presence(body, "email");
    u.email = optStringField(body, "email", 320);
    u.descriptionP = presence(body, "description");
    u.description = optStringField(body, "description", 5000);
    u.avatarUrlP = presence(body, "avatar_url");
    u.avatarUrl = optStringField(body, "avatar_url", 2000);
    u.isActive = boolField(body, "is_active");
    return u;
}

ProfileSetting parseProfileSetting(const JsonObject& body) {
    ProfileSetting s;
    s.profileId = stringField(body, "profile_id", 128);
    s.key = stringField(body, "setting_key", 200);
    if (!presence(body, "setting_value").present) throw validation("setting_value", "is required");
    if (!body->isNull("setting_value")) {
        auto v = body->get("setting_value");
        s.value = v.isString() ? v.extract<std::string>() : atelier::toJson(v);
    }
    return s;
}

}  // namespace tickets
