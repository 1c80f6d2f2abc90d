// libgit2 handles as unique_ptrs, the library's init/shutdown pairing and its last error
// message: one definition for every module that works on repositories.
#pragma once

#include <git2.h>

#include <memory>
#include <string>

namespace atelier::git {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const {
        if (p) Free(p);
    }
};
template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using Repo = Ptr<git_repository, git_repository_free>;
using Ref = Ptr<git_reference, git_reference_free>;
using Commit = Ptr<git_commit, git_commit_free>;
using Tree = Ptr<git_tree, git_tree_free>;
using Object = Ptr<git_object, git_object_free>;
using Index = Ptr<git_index, git_index_free>;
using Diff = Ptr<git_diff, git_diff_free>;
using Patch = Ptr<git_patch, git_patch_free>;
using StatusList = Ptr<git_status_list, git_status_list_free>;
using Worktree = Ptr<git_worktree, git_worktree_free>;
using Signature = Ptr<git_signature, git_signature_free>;
using Remote = Ptr<git_remote, git_remote_free>;
using Config = Ptr<git_config, git_config_free>;
using Annotated = Ptr<git_annotated_commit, git_annotated_commit_free>;
using Rebase = Ptr<git_rebase, git_rebase_free>;
using BranchIter = Ptr<git_branch_iterator, git_branch_iterator_free>;
using TreeEntry = Ptr<git_tree_entry, git_tree_entry_free>;
using Blob = Ptr<git_blob, git_blob_free>;
using ConflictIter = Ptr<git_index_conflict_iterator, git_index_conflict_iterator_free>;

// libgit2 counts its initialisations; each module holds one for as long as it uses the library.
class Library {
public:
    Library() { git_libgit2_init(); }
    ~Library() { git_libgit2_shutdown(); }
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

// The message of the calling thread's last libgit2 failure.
inline std::string lastError(const char* fallback = "unknown libgit2 error") {
    const git_error* e = git_error_last();
    return e && e->message ? e->message : fallback;
}

}  // namespace atelier::git
