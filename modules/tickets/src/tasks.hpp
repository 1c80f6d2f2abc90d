// OpenKit local tasks over the ticket store: a task is a ticket of the active project,
// identified as <prefix>-<ticket number> (prefix from the project config's
// `localIssuePrefix`, default LOCAL). Status and priority map onto ticket fields:
// todo↔open, in-progress↔in_progress, done↔closed (blocked shows as todo);
// high/medium/low ↔ 3/2/1 (4 shows as high, 0 as low, none as medium).
#pragma once

#include <atelier/shared/active_project.hpp>

#include "attachments.hpp"
#include "common.hpp"
#include "notes.hpp"
#include "tickets.hpp"

namespace tickets {

struct CallResult {
    int status = 0;
    std::string body;
    JsonObject json() const { return atelier::parseObject(body); }
};

// In-process calls to other modules (config, worktrees).
struct TaskEnv {
    std::function<CallResult(std::string_view method, const std::string& pathAndQuery, const std::string& body,
                             const std::string& headersJson)>
        call;
};

std::string taskStatus(const std::string& ticketStatus);
std::string ticketStatus(const std::string& taskStatus);  // "" when invalid
std::string taskPriority(const Var& ticketPriority);
int64_t ticketPriority(const std::string& taskPriority);  // -1 when invalid

class Tasks {
public:
    Tasks(const Store& store, const Tickets& tickets, const Attachments& attachments, const Notes& notes)
        : s_(store), t_(tickets), a_(attachments), n_(notes) {}
    void setEnv(TaskEnv env) { env_ = std::move(env); }

    JsonArray list(const atelier::ActiveProject& p) const;
    JsonObject get(const atelier::ActiveProject& p, const std::string& id) const;
    JsonObject create(const atelier::ActiveProject& p, const JsonObject& body) const;
    JsonObject update(const atelier::ActiveProject& p, const std::string& id, const JsonObject& body) const;
    void remove(const atelier::ActiveProject& p, const std::string& id) const;
    JsonObject recover(const atelier::ActiveProject& p, const JsonObject& body) const;

    struct WorktreeResult {
        bool created = false;
        JsonObject body;
    };
    WorktreeResult createWorktree(const atelier::ActiveProject& p, const std::string& id, const JsonObject& body) const;

    JsonObject attach(const atelier::ActiveProject& p, const std::string& id, const Upload& up) const;
    FileData attachment(const atelier::ActiveProject& p, const std::string& id, const std::string& filename) const;
    void detach(const atelier::ActiveProject& p, const std::string& id, const std::string& filename) const;

    // The project's local issue prefix (config module, else LOCAL).
    std::string prefix(const std::string& projectId) const;

private:
    Row requireTask(const atelier::ActiveProject& p, const std::string& id, std::string* identifier = nullptr) const;
    JsonObject taskJson(const Row& r, const std::string& prefix, const std::string& projectId, bool withAttachments) const;
    void replaceLabels(const std::string& projectId, const Row& ticket, const std::vector<std::string>& names) const;

    const Store& s_;
    const Tickets& t_;
    const Attachments& a_;
    const Notes& n_;
    TaskEnv env_;
};

}  // namespace tickets
