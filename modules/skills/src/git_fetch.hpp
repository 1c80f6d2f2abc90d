// Git checkouts of marketplaces and package sources through libgit2.
#pragma once

#include <string>

#include "fs_util.hpp"

namespace atelier::skills {

// "owner/repo" becomes its GitHub https URL; anything else must already be a git URL or an
// absolute path to a repository.
std::string gitUrlFor(const std::string& repoOrUrl);
// Clones `url` into `dest` (replacing it only once the new clone is complete). A source that
// cannot be reached throws DomainError Unavailable SOURCE_UNREACHABLE with libgit2's message.
// Returns the checked-out commit id.
std::string gitCloneFresh(const std::string& url, const fs::path& dest);

}  // namespace atelier::skills
