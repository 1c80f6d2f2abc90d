// OpenKit notes per issue (source jira|linear|local and issue id) within a project:
// personal notes, AI context, todos, git policy and the linked worktree.
#pragma once

#include "common.hpp"

namespace tickets {

class Notes {
public:
    explicit Notes(const Store& store) : s_(store) {}

    JsonObject get(const std::string& projectId, const std::string& source, const std::string& issueId) const;
    JsonObject putSection(const std::string& projectId, const std::string& source, const std::string& issueId, const JsonObject& body) const;
    JsonObject addTodo(const std::string& projectId, const std::string& source, const std::string& issueId, const JsonObject& body) const;
    JsonObject updateTodo(const std::string& projectId, const std::string& source, const std::string& issueId, const std::string& todoId,
                          const JsonObject& body) const;
    JsonObject deleteTodo(const std::string& projectId, const std::string& source, const std::string& issueId, const std::string& todoId) const;
    JsonObject gitPolicy(const std::string& projectId, const std::string& source, const std::string& issueId, const JsonObject& body) const;

    void link(const std::string& projectId, const std::string& source, const std::string& issueId, const std::string& worktreeId) const;
    std::optional<std::string> linkedWorktree(const std::string& projectId, const std::string& source, const std::string& issueId) const;
    void removeAll(const std::string& projectId, const std::string& source, const std::string& issueId) const;

private:
    // Runs fn over the stored (or fresh) notes inside a transaction and saves the result.
    JsonObject modify(const std::string& projectId, const std::string& source, const std::string& issueId,
                      const std::function<void(const Db&, Row*, std::vector<std::string>& sets, std::vector<Param>& ps)>& fn) const;
    const Store& s_;
};

// Canonical issue id: validated, local ids upper-cased. 400 on a bad source or id.
std::string canonicalIssueId(const std::string& source, const std::string& issueId);

}  // namespace tickets
