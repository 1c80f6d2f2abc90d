// libgit2 helpers of the projects module, directly.
#include "../../../modules/projects/src/git_repo.hpp"

#include <git2.h>
#include <gtest/gtest.h>

#include "git_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using projects::testing::makeRepo;
using projects::testing::tempDir;
using projects::testing::writeFile;

class GitRepoTest : public ::testing::Test {
protected:
    GitRepoTest() { git_libgit2_init(); }
    ~GitRepoTest() override { git_libgit2_shutdown(); }
};

TEST_F(GitRepoTest, DiscoverFindsTheWorkingDirectoryRoot) {
    auto repo = makeRepo({{"a/b/c.txt", "c"}});
    EXPECT_EQ(projects::git::discoverRoot(repo), repo);
    EXPECT_EQ(projects::git::discoverRoot(repo + "/a/b"), repo);
    EXPECT_EQ(projects::git::discoverRoot(repo + "/a/b/"), repo);
    EXPECT_EQ(projects::git::discoverRoot(repo + "/.git"), repo);
    EXPECT_FALSE(projects::git::discoverRoot(tempDir()));
    EXPECT_FALSE(projects::git::discoverRoot("/definitely/not/here"));
    EXPECT_TRUE(projects::git::isRepositoryRoot(repo));
    EXPECT_FALSE(projects::git::isRepositoryRoot(repo + "/a"));
    EXPECT_FALSE(projects::git::isRepositoryRoot(repo + "/a/b/c.txt"));
}

TEST_F(GitRepoTest, LinkedWorktreesBelongToTheirMainRepository) {
    auto repo = makeRepo({{"src/a.txt", "a"}});
    auto wt = repo + "/.atelier/worktrees/feature-x";
    projects::testing::addWorktree(repo, "feature-x", wt);
    EXPECT_EQ(projects::git::discoverRoot(wt + "/src"), wt);
    EXPECT_EQ(projects::git::discoverMainRoot(wt + "/src"), repo);
    EXPECT_EQ(projects::git::discoverMainRoot(repo + "/src"), repo);
    EXPECT_EQ(projects::git::headBranch(wt), "feature-x");
}

TEST_F(GitRepoTest, BareRepositoriesHaveNoWorkingDirectory) {
    auto dir = tempDir();
    git_repository* bare = nullptr;
    ASSERT_EQ(git_repository_init(&bare, dir.c_str(), 1), 0);
    git_repository_free(bare);
    EXPECT_FALSE(projects::git::discoverRoot(dir));
    EXPECT_FALSE(projects::git::isRepositoryRoot(dir));
}

TEST_F(GitRepoTest, HeadBranchNamedUnbornAndDetached) {
    auto repo = makeRepo();
    EXPECT_EQ(projects::git::headBranch(repo), "main");
    auto unborn = makeRepo({}, false);
    EXPECT_EQ(projects::git::headBranch(unborn), "main");

    git_repository* r = nullptr;
    ASSERT_EQ(git_repository_open(&r, repo.c_str()), 0);
    git_oid head;
    ASSERT_EQ(git_reference_name_to_id(&head, r, "HEAD"), 0);
    ASSERT_EQ(git_repository_set_head_detached(r, &head), 0);
    git_repository_free(r);
    EXPECT_FALSE(projects::git::headBranch(repo));
}

TEST_F(GitRepoTest, TrackedFilesComeFromTheIndexOnly) {
    auto repo = makeRepo({{"x.txt", "x"}, {"sub/y.txt", "y"}, {"sub/deeper/z.txt", "z"}, {"subway.txt", "s"}});
    writeFile(fs::path(repo) / "sub/untracked.txt", "u");
    EXPECT_EQ(projects::git::trackedFiles(repo),
              (std::vector<std::string>{"sub/deeper/z.txt", "sub/y.txt", "subway.txt", "x.txt"}));
    EXPECT_EQ(projects::git::trackedFiles(repo, repo + "/sub"), (std::vector<std::string>{"deeper/z.txt", "y.txt"}))
        << "a prefix match must stop at the directory boundary (subway.txt is not in sub/)";
    EXPECT_THROW(projects::git::trackedFiles(tempDir()), projects::git::GitError);
    // A repository without commits has an empty index.
    EXPECT_TRUE(projects::git::trackedFiles(makeRepo({{"f", "f"}}, false)).empty());
}

}  // namespace
