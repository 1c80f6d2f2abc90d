#include "git_fetch.hpp"

#include <git2.h>

#include <atelier/util.hpp>
#include <regex>

#include "domain_error.hpp"

namespace atelier::skills {

std::string gitUrlFor(const std::string& s) {
    static const std::regex shorthand("^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$");
    if (std::regex_match(s, shorthand)) return "https://github.com/" + s + ".git";
    static const std::regex url("^(https?|git|ssh|file)://[^\\s]+$");
    if (std::regex_match(s, url) || (fs::path(s).is_absolute() && s.find('\n') == std::string::npos)) return s;
    throw invalid("source", "must be owner/repo, a git URL or an absolute path");
}

std::string gitCloneFresh(const std::string& url, const fs::path& dest) {
    static const int initialised = git_libgit2_init();
    (void)initialised;
    fs::path tmp = dest.parent_path() / (".clone-" + dest.filename().string() + "-" + atelier::randomHex(8));
    fs::create_directories(dest.parent_path());
    git_repository* repo = nullptr;
    git_clone_options opts;
    git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
    int rc = git_clone(&repo, url.c_str(), tmp.c_str(), &opts);
    std::error_code ec;
    if (rc != 0) {
        const git_error* e = git_error_last();
        std::string msg = e && e->message ? e->message : "unknown error";
        fs::remove_all(tmp, ec);
        throw unavailable("SOURCE_UNREACHABLE", "Could not fetch " + url + ": " + msg);
    }
    git_oid oid{};
    char hex[GIT_OID_HEXSZ + 1] = {0};
    if (git_reference_name_to_id(&oid, repo, "HEAD") == 0) git_oid_tostr(hex, sizeof hex, &oid);
    git_repository_free(repo);
    fs::remove_all(dest, ec);
    fs::rename(tmp, dest);
    return hex;
}

}  // namespace atelier::skills
