// Comments on tickets: threaded replies, edits, deletion, and the mention records parsed
// from each body (profiles and same-project ticket references), each one an event.
#pragma once

#include "common.hpp"
#include "tickets.hpp"

namespace tickets {

JsonObject commentJson(const Row& r);
// CommentWithAuthor for rows, in the same order.
JsonArray commentsWithAuthors(const Db& db, const std::vector<Row>& rows);

constexpr size_t kMaxCommentBody = 100000;

struct NewComment {
    std::string authorId;
    std::string body;
    std::optional<int64_t> parentId;
    std::optional<std::string> sessionId;  // the Kombuse session that wrote it
    std::optional<std::string> externalSource, externalId;
};
struct CommentEdit {
    std::string body;
    std::optional<std::string> updatedById;
};

struct ParentFilter {
    enum class Kind { Any, TopLevel, Parent } kind = Kind::Any;
    int64_t parentId = 0;
};

class Comments {
public:
    Comments(const Store& store, const Tickets& tickets) : s_(store), t_(tickets) {}

    JsonArray list(const std::string& projectId, int64_t number, const std::optional<std::string>& authorId,
                   ParentFilter parent, int64_t limit, int64_t offset) const;
    JsonObject get(int64_t id) const;
    JsonObject create(const std::string& projectId, int64_t number, const NewComment& req) const;
    JsonObject update(int64_t id, const CommentEdit& req) const;
    void remove(int64_t id, const std::string& actorId) const;
    JsonArray mentions(int64_t id) const;
    Row requireRow(int64_t id) const;

private:
    const Store& s_;
    const Tickets& t_;
};

}  // namespace tickets
