// Unit tests: the worktrees module in the fake host with stand-in collaborators, acting on
// real repositories in temporary directories.
#include "fake_collaborators.hpp"
#include "git_fixture.hpp"

#include <atelier/testing/fake_host.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace fs = std::filesystem;
using atelier::testing::FakeResponse;
using wtfix::git;

namespace {

class WorktreesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto& s = wtfake::state();
        s.localPath = wtfix::makeRepo({{"README.md", "hello\n"},
                                       {"src/app.txt", "line1\nline2\nline3\n"},
                                       {"src/lib/util.txt", "util\n"},
                                       {".gitignore", ".env*\n"}});
        wtfix::write(s.localPath + "/.env", "ROOT=1\n");
        wtfix::write(s.localPath + "/src/.env.local", "NESTED=1\n");
        s.extraRepoPath.clear();
        s.configJson.clear();
        s.stoppedProcesses = 0;
        s.closedTerminals = 0;
        s.vetoCreate = false;
        s.removingSeen.clear();
        s.removedSeen.clear();
        host = std::make_unique<atelier::testing::FakeHost>();
        host->setConfig("worktrees", R"({"statusRefreshMs":0})");
        host->load(wtfake::fakeProjectsEntry());
        host->load(atelier_module_entry_v1());
        repo = s.localPath;
    }
    void TearDown() override {
        host.reset();
        std::error_code ec;
        fs::remove_all(repo, ec);
    }

    FakeResponse req(const std::string& m, const std::string& p, const std::string& body = {}) {
        return host->request(m, p, body);
    }
    // Creates and waits until the job finished; returns the final worktree JSON (or null).
    atelier::JsonObject createAndWait(const std::string& body, int expectStatus = 201) {
        auto r = req("POST", "/api/worktrees", body);
        EXPECT_EQ(r.status, expectStatus) << r.body;
        if (r.status != 201) return nullptr;
        auto wt = r.json()->getObject("worktree");
        EXPECT_EQ(wt->getValue<std::string>("status"), "creating");
        std::string id = wt->getValue<std::string>("id");
        atelier::JsonObject last;
        wtfix::waitFor([&] {
            auto g = req("GET", "/api/worktrees/" + id);
            if (g.status == 404) return true;
            last = g.json();
            return last && last->getValue<std::string>("status") != "creating";
        });
        auto g = req("GET", "/api/worktrees/" + id);
        return g.status == 200 ? g.json() : nullptr;
    }
    std::string code(const FakeResponse& r) {
        auto j = r.json();
        return j && j->has("code") ? j->getValue<std::string>("code") : "";
    }
    std::vector<atelier::Event> eventsOf(const std::string& type) {
        std::vector<atelier::Event> out;
        for (auto& e : host->events())
            if (e.type == type) out.push_back(e);
        return out;
    }

    std::unique_ptr<atelier::testing::FakeHost> host;
    std::string repo;
};

TEST_F(WorktreesTest, ListShowsRootFirstWithStatusFields) {
    auto r = req("GET", "/api/worktrees");
    ASSERT_EQ(r.status, 200) << r.body;
    auto list = r.json()->getArray("worktrees");
    ASSERT_EQ(list->size(), 1u);
    auto root = list->getObject(0);
    EXPECT_EQ(root->getValue<std::string>("id"), "root");
    EXPECT_EQ(root->getValue<std::string>("path"), repo);
    EXPECT_EQ(root->getValue<std::string>("branch"), "main");
    EXPECT_FALSE(root->getValue<bool>("hasUncommitted"));  // .env files are ignored
    for (const char* k : {"status", "ports", "offset", "pid", "lastActivity", "jiraUrl", "githubPrUrl", "linearUrl",
                          "localIssueId", "hasUnpushed", "commitsAhead", "commitsAheadOfBase"})
        EXPECT_TRUE(root->has(k)) << k;
}

TEST_F(WorktreesTest, CreateCopiesEnvFilesAndReportsStatus) {
    auto wt = createAndWait(R"({"branch":"feature/login-page"})");
    ASSERT_TRUE(wt);
    EXPECT_EQ(wt->getValue<std::string>("id"), "login-page");
    EXPECT_EQ(wt->getValue<std::string>("branch"), "feature/login-page");
    EXPECT_EQ(wt->getValue<std::string>("status"), "stopped");
    EXPECT_EQ(wt->getValue<std::string>("baseBranch"), "main");
    std::string path = wt->getValue<std::string>("path");
    EXPECT_EQ(path, repo + "/.atelier/worktrees/login-page");
    EXPECT_EQ(wtfix::read(path + "/src/app.txt"), "line1\nline2\nline3\n");
    EXPECT_EQ(wtfix::read(path + "/.env"), "ROOT=1\n");
    EXPECT_EQ(wtfix::read(path + "/src/.env.local"), "NESTED=1\n");
    EXPECT_EQ(git(path, {"rev-parse", "--abbrev-ref", "HEAD"}), "feature/login-page");
    EXPECT_NE(git(repo, {"worktree", "list"}).find(path), std::string::npos);
    EXPECT_FALSE(wt->getValue<bool>("hasUncommitted"));
    EXPECT_EQ(wt->getValue<int>("commitsAheadOfBase"), 0);
    // The root stays clean: the worktrees directory is excluded.
    auto root = req("GET", "/api/worktrees/root").json();
    EXPECT_FALSE(root->getValue<bool>("hasUncommitted"));

    // A change and a commit show up in the status fields.
    wtfix::write(path + "/new.txt", "x\n");
    git(path, {"add", "-A"});
    git(path, {"commit", "-q", "-m", "work"});
    wtfix::write(path + "/dirty.txt", "y\n");
    auto list = req("GET", "/api/worktrees?project=demo").json()->getArray("worktrees");
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), "root");
    // Statuses are cached; mutations through the API refresh them, the refresher the rest.
    auto fresh = req("POST", "/api/worktrees/login-page/commit", R"({"message":"more"})");
    ASSERT_EQ(fresh.status, 200) << fresh.body;
    auto after = req("GET", "/api/worktrees/login-page").json();
    EXPECT_FALSE(after->getValue<bool>("hasUncommitted"));
    EXPECT_EQ(after->getValue<int>("commitsAheadOfBase"), 2);
    EXPECT_EQ(after->getValue<int>("commitsAhead"), 2);
    EXPECT_TRUE(after->getValue<bool>("hasUnpushed"));

    auto logs = req("GET", "/api/worktrees/login-page/logs");
    ASSERT_EQ(logs.status, 200);
    auto lines = logs.json()->getArray("logs");
    ASSERT_GE(lines->size(), 2u);
    EXPECT_NE(logs.body.find("Copied .env"), std::string::npos) << logs.body;
    EXPECT_EQ(lines->getElement<std::string>(static_cast<int>(lines->size()) - 1), "devserver: listening");
    // Lists and single entries go through worktrees.decorate.
    EXPECT_EQ(after->getValue<std::string>("decoratedBy"), "devservers");
    EXPECT_EQ(list->getObject(1)->getValue<std::string>("decoratedBy"), "devservers");

    // Events: placeholder list, completion, hooks.
    EXPECT_EQ(eventsOf("worktree.created").size(), 1u);
    EXPECT_GE(eventsOf("worktrees.changed").size(), 2u);
    auto changed = eventsOf("worktrees.changed").back().payloadJson();
    EXPECT_TRUE(changed->getArray("worktrees"));
}

TEST_F(WorktreesTest, CreateValidatesInput) {
    EXPECT_EQ(code(req("POST", "/api/worktrees", "{bad json")), "INVALID_JSON");
    auto missing = req("POST", "/api/worktrees", "{}");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.json()->getArray("details")->getObject(0)->getValue<std::string>("field"), "branch");
    EXPECT_EQ(req("POST", "/api/worktrees", R"({"branch":5})").status, 400);
    for (const char* bad : {"bad..name", "-x", "a b", "x.lock", "end/", "HEAD", "a~1", "a:b"}) {
        auto r = req("POST", "/api/worktrees", std::string(R"({"branch":")") + bad + "\"}");
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(code(r), "INVALID_BRANCH_NAME") << bad;
    }
    EXPECT_EQ(code(req("POST", "/api/worktrees", R"({"branch":"ok","id":"../escape"})")), "INVALID_WORKTREE_ID");
    EXPECT_EQ(code(req("POST", "/api/worktrees", R"({"branch":"ok","id":"a/b"})")), "INVALID_WORKTREE_ID");
    EXPECT_EQ(code(req("POST", "/api/worktrees", R"({"branch":"ok","name":"root"})")), "INVALID_WORKTREE_ID");
    EXPECT_EQ(code(req("POST", "/api/worktrees", R"({"branch":"ok","baseBranch":"nope"})")), "INVALID_BASE_BRANCH");
    EXPECT_EQ(code(req("GET", "/api/worktrees?project=unknown")), "PROJECT_NOT_FOUND");
    EXPECT_FALSE(fs::exists(repo + "/.atelier/worktrees/escape"));
    EXPECT_EQ(git(repo, {"branch", "--list", "ok"}), "");

    // Vetoed by a hook.
    wtfake::state().vetoCreate = true;
    auto v = req("POST", "/api/worktrees", R"({"branch":"vetoed"})");
    EXPECT_EQ(v.status, 409);
    EXPECT_NE(v.body.find("creation disabled by policy"), std::string::npos);
    wtfake::state().vetoCreate = false;

    // Repository with no commits.
    std::string empty = wtfix::makeRepo({{"a.txt", "a"}}, false);
    wtfake::state().localPath = empty;
    auto e = req("POST", "/api/worktrees", R"({"branch":"x"})");
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(code(e), "EMPTY_REPOSITORY");
    fs::remove_all(empty);
    wtfake::state().localPath = "";
    EXPECT_EQ(code(req("GET", "/api/worktrees")), "NO_ACTIVE_PROJECT");
    wtfake::state().localPath = repo;
}

TEST_F(WorktreesTest, DuplicateAndConcurrentCreates) {
    ASSERT_TRUE(createAndWait(R"({"branch":"dup"})"));
    auto again = req("POST", "/api/worktrees", R"({"branch":"other","id":"DUP"})");
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(code(again), "WORKTREE_EXISTS");
    EXPECT_EQ(again.json()->getValue<std::string>("worktreeId"), "dup");
    auto sameBranch = req("POST", "/api/worktrees", R"({"branch":"dup","id":"dup2"})");
    EXPECT_EQ(code(sameBranch), "WORKTREE_EXISTS");
    EXPECT_EQ(code(req("POST", "/api/worktrees", R"({"branch":"main"})")), "WORKTREE_EXISTS");

    std::atomic<int> created{0}, conflicts{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; ++i)
        ts.emplace_back([&] {
            auto r = req("POST", "/api/worktrees", R"({"branch":"race"})");
            if (r.status == 201) ++created;
            if (r.status == 409) ++conflicts;
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(created.load(), 1);
    EXPECT_EQ(conflicts.load(), 1);
    wtfix::waitFor([&] { return req("GET", "/api/worktrees/race").json()->getValue<std::string>("status") == "stopped"; });
    std::string list = git(repo, {"worktree", "list", "--porcelain"});
    size_t n = 0;
    for (size_t pos = 0; (pos = list.find("refs/heads/race", pos)) != std::string::npos; ++pos) ++n;
    EXPECT_EQ(n, 1u);
}

TEST_F(WorktreesTest, FailedInstallRollsEverythingBack) {
    wtfake::state().configJson = R"({"installCommand":"false"})";
    auto r = req("POST", "/api/worktrees", R"({"branch":"broken"})");
    ASSERT_EQ(r.status, 201) << r.body;
    wtfix::waitFor([&] { return req("GET", "/api/worktrees/broken").status == 404; });
    EXPECT_EQ(req("GET", "/api/worktrees/broken").status, 404);
    EXPECT_FALSE(fs::exists(repo + "/.atelier/worktrees/broken"));
    EXPECT_EQ(git(repo, {"branch", "--list", "broken"}), "");
    EXPECT_EQ(git(repo, {"worktree", "list", "--porcelain"}).find("broken"), std::string::npos);
    auto removed = eventsOf("worktree.removed");
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].payloadJson()->getValue<std::string>("reason"), "creation_failed");

    // A working install command runs as argv in the worktree.
    wtfake::state().configJson = R"({"installCommand":"touch installed.marker","baseBranch":"main"})";
    auto ok = createAndWait(R"({"branch":"installed"})");
    ASSERT_TRUE(ok);
    EXPECT_TRUE(fs::exists(ok->getValue<std::string>("path") + "/installed.marker"));
}

TEST_F(WorktreesTest, DeleteStopsWorkThroughHooksAndRemovesEverything) {
    auto wt = createAndWait(R"({"branch":"to-delete"})");
    ASSERT_TRUE(wt);
    std::string path = wt->getValue<std::string>("path");
    wtfake::state().stoppedProcesses = 1;
    wtfake::state().closedTerminals = 2;
    auto d = req("DELETE", "/api/worktrees/TO-DELETE");
    ASSERT_EQ(d.status, 200) << d.body;
    auto o = d.json();
    EXPECT_TRUE(o->getValue<bool>("success"));
    EXPECT_EQ(o->getValue<std::string>("worktreeId"), "to-delete");
    EXPECT_EQ(o->getValue<int>("removedTerminalSessions"), 2);
    EXPECT_TRUE(o->getValue<bool>("removedRunningProcess"));
    EXPECT_EQ(o->getValue<int>("clearedLinks"), 0);
    EXPECT_EQ(o->getValue<std::string>("deleteOpId").size(), 36u);
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(git(repo, {"worktree", "list"}).find(path), std::string::npos);
    EXPECT_EQ(git(repo, {"branch", "--list", "to-delete"}), "  to-delete");  // the branch is kept
    ASSERT_EQ(wtfake::state().removingSeen.size(), 1u);
    EXPECT_NE(wtfake::state().removingSeen[0].find(path), std::string::npos);
    EXPECT_EQ(wtfake::state().removedSeen.size(), 1u);
    EXPECT_EQ(eventsOf("worktree.removed").size(), 1u);
    EXPECT_EQ(host->opsEntries().size(), 1u);
    auto nf = req("DELETE", "/api/worktrees/to-delete");
    EXPECT_EQ(nf.status, 404);
    EXPECT_EQ(code(nf), "WORKTREE_NOT_FOUND");
    EXPECT_TRUE(nf.json()->has("deleteOpId"));
    auto inv = req("DELETE", "/api/worktrees/..");
    EXPECT_EQ(inv.status, 400);
    EXPECT_EQ(code(inv), "INVALID_WORKTREE_ID");
}

TEST_F(WorktreesTest, CanonicalIdResolutionAndAmbiguity) {
    fs::create_directories(repo + "/.atelier/worktrees");
    git(repo, {"worktree", "add", "-q", "-b", "upper", repo + "/.atelier/worktrees/AVO-241"});
    auto one = req("GET", "/api/worktrees/avo-241");
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.json()->getValue<std::string>("id"), "AVO-241");
    git(repo, {"worktree", "add", "-q", "-b", "lower", repo + "/.atelier/worktrees/avo-241"});
    EXPECT_EQ(req("GET", "/api/worktrees/avo-241").json()->getValue<std::string>("branch"), "lower");  // exact wins
    auto amb = req("GET", "/api/worktrees/Avo-241");
    EXPECT_EQ(amb.status, 409);
    EXPECT_EQ(code(amb), "WORKTREE_ID_AMBIGUOUS");
    EXPECT_NE(amb.body.find("Matches"), std::string::npos);
    EXPECT_EQ(code(req("GET", "/api/worktrees/missing")), "WORKTREE_NOT_FOUND");
    EXPECT_EQ(code(req("GET", "/api/worktrees/a..b")), "INVALID_WORKTREE_ID");
}

TEST_F(WorktreesTest, RenameDirectoryAndBranch) {
    ASSERT_TRUE(createAndWait(R"({"branch":"old-branch","id":"old"})"));
    auto r = req("PATCH", "/api/worktrees/old", R"({"name":"new-name","branch":"feature/new-branch"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto wt = r.json()->getObject("worktree");
    EXPECT_EQ(wt->getValue<std::string>("id"), "new-name");
    EXPECT_EQ(wt->getValue<std::string>("branch"), "feature/new-branch");
    std::string path = repo + "/.atelier/worktrees/new-name";
    EXPECT_EQ(wt->getValue<std::string>("path"), path);
    EXPECT_FALSE(fs::exists(repo + "/.atelier/worktrees/old"));
    EXPECT_EQ(git(path, {"rev-parse", "--abbrev-ref", "HEAD"}), "feature/new-branch");
    EXPECT_EQ(git(path, {"status", "--porcelain"}), "");
    EXPECT_EQ(git(repo, {"branch", "--list", "old-branch"}), "");
    EXPECT_EQ(req("GET", "/api/worktrees/old").status, 404);
    EXPECT_EQ(code(req("PATCH", "/api/worktrees/new-name", R"({"branch":"bad..x"})")), "INVALID_BRANCH_NAME");
    EXPECT_EQ(code(req("PATCH", "/api/worktrees/new-name", R"({"branch":"main"})")), "BRANCH_EXISTS");
    EXPECT_TRUE(fs::exists(path)) << "failed rename leaves the worktree alone";
    EXPECT_EQ(req("PATCH", "/api/worktrees/new-name", "{}").status, 400);
    EXPECT_EQ(req("DELETE", "/api/worktrees/new-name").status, 200);
}

TEST_F(WorktreesTest, RecoverAfterDirectoryDeletedByHand) {
    auto wt = createAndWait(R"({"branch":"recover-me"})");
    ASSERT_TRUE(wt);
    std::string path = wt->getValue<std::string>("path");
    wtfix::write(path + "/committed.txt", "keep\n");
    git(path, {"add", "-A"});
    git(path, {"commit", "-q", "-m", "keep"});
    fs::remove_all(path);
    auto missing = req("GET", "/api/worktrees/recover-me").json();
    EXPECT_TRUE(missing->getValue<bool>("missing"));
    EXPECT_EQ(code(req("POST", "/api/worktrees/recover-me/recover", R"({"action":"fix"})")), "VALIDATION_ERROR");
    auto r = req("POST", "/api/worktrees/recover-me/recover", R"({"action":"reuse"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()->getValue<bool>("repaired"));
    EXPECT_EQ(wtfix::read(path + "/committed.txt"), "keep\n");
    EXPECT_EQ(wtfix::read(path + "/.env"), "ROOT=1\n");
    EXPECT_FALSE(r.json()->getObject("worktree")->getValue<bool>("missing"));

    auto rc = req("POST", "/api/worktrees/recover-me/recover", R"({"action":"recreate"})");
    ASSERT_EQ(rc.status, 200) << rc.body;
    EXPECT_FALSE(fs::exists(path + "/committed.txt")) << "recreate resets the branch to its base";
    EXPECT_EQ(git(path, {"rev-parse", "HEAD"}), git(repo, {"rev-parse", "main"}));
}

TEST_F(WorktreesTest, DiffCoversModifiedDeletedRenamedUntrackedAndBinary) {
    auto wt = createAndWait(R"({"branch":"diffs"})");
    ASSERT_TRUE(wt);
    std::string path = wt->getValue<std::string>("path");
    wtfix::write(path + "/src/app.txt", "line1\nchanged\nline3\nline4\n");
    fs::remove(path + "/src/lib/util.txt");
    git(path, {"mv", "README.md", "DOCS.md"});
    wtfix::write(path + "/untracked.txt", "a\nb\n");
    wtfix::write(path + "/image.bin", std::string("\x89PNG\0\0\x01\x02", 8));
    auto r = req("GET", "/api/worktrees/diffs/diff");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_EQ(o->getValue<std::string>("baseBranch"), "main");
    std::map<std::string, atelier::JsonObject> files;
    auto arr = o->getArray("files");
    for (size_t i = 0; i < arr->size(); ++i) files[arr->getObject(i)->getValue<std::string>("path")] = arr->getObject(i);
    ASSERT_TRUE(files.count("src/app.txt")) << r.body;
    EXPECT_EQ(files["src/app.txt"]->getValue<std::string>("status"), "modified");
    EXPECT_EQ(files["src/app.txt"]->getValue<int>("linesAdded"), 2);
    EXPECT_EQ(files["src/app.txt"]->getValue<int>("linesRemoved"), 1);
    ASSERT_TRUE(files.count("src/lib/util.txt"));
    EXPECT_EQ(files["src/lib/util.txt"]->getValue<std::string>("status"), "deleted");
    EXPECT_EQ(files["src/lib/util.txt"]->getValue<int>("linesRemoved"), 1);
    ASSERT_TRUE(files.count("DOCS.md"));
    EXPECT_EQ(files["DOCS.md"]->getValue<std::string>("status"), "renamed");
    EXPECT_EQ(files["DOCS.md"]->getValue<std::string>("oldPath"), "README.md");
    ASSERT_TRUE(files.count("untracked.txt"));
    EXPECT_EQ(files["untracked.txt"]->getValue<std::string>("status"), "untracked");
    EXPECT_EQ(files["untracked.txt"]->getValue<int>("linesAdded"), 2);
    ASSERT_TRUE(files.count("image.bin"));
    EXPECT_TRUE(files["image.bin"]->getValue<bool>("isBinary"));
    EXPECT_FALSE(files["src/app.txt"]->getValue<bool>("isBinary"));

    auto f = req("GET", "/api/worktrees/diffs/diff/file?path=src/app.txt");
    ASSERT_EQ(f.status, 200) << f.body;
    EXPECT_EQ(f.json()->getValue<std::string>("oldContent"), "line1\nline2\nline3\n");
    EXPECT_EQ(f.json()->getValue<std::string>("newContent"), "line1\nchanged\nline3\nline4\n");
    auto ren = req("GET", "/api/worktrees/diffs/diff/file?path=DOCS.md&status=renamed&oldPath=README.md").json();
    EXPECT_EQ(ren->getValue<std::string>("oldContent"), "hello\n");
    EXPECT_EQ(ren->getValue<std::string>("newContent"), "hello\n");
    auto del = req("GET", "/api/worktrees/diffs/diff/file?path=src/lib/util.txt&status=deleted").json();
    EXPECT_EQ(del->getValue<std::string>("oldContent"), "util\n");
    EXPECT_EQ(del->getValue<std::string>("newContent"), "");
    auto trav = req("GET", "/api/worktrees/diffs/diff/file?path=../../../etc/passwd");
    EXPECT_EQ(trav.status, 400);
    EXPECT_EQ(trav.json()->getValue<std::string>("oldContent"), "");
    EXPECT_EQ(req("GET", "/api/worktrees/diffs/diff/file?path=/etc/passwd").status, 400);
    EXPECT_EQ(req("GET", "/api/worktrees/diffs/diff/file").status, 400);
    EXPECT_EQ(req("GET", "/api/worktrees/diffs/diff/file?path=a&status=weird").status, 400);
    EXPECT_EQ(req("GET", "/api/worktrees/diffs/diff?includeCommitted=maybe").status, 400);

    // Committed changes only show with includeCommitted.
    auto c = req("POST", "/api/worktrees/diffs/commit", R"({"message":"all of it"})");
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(c.json()->getValue<int>("filesChanged"), 5);
    EXPECT_EQ(c.json()->getValue<std::string>("commit"), git(path, {"rev-parse", "HEAD"}));
    EXPECT_EQ(req("GET", "/api/worktrees/diffs/diff").json()->getArray("files")->size(), 0u);
    auto committed = req("GET", "/api/worktrees/diffs/diff?includeCommitted=true").json()->getArray("files");
    EXPECT_EQ(committed->size(), 5u);
    EXPECT_EQ(code(req("POST", "/api/worktrees/diffs/commit", R"({"message":"again"})")), "NOTHING_TO_COMMIT");
    EXPECT_EQ(req("POST", "/api/worktrees/diffs/commit", R"({})").status, 400);
}

TEST_F(WorktreesTest, PushToLocalBareRemote) {
    std::string bare = wtfix::addBareRemote(repo);
    auto wt = createAndWait(R"({"branch":"feature/pushed"})");
    ASSERT_TRUE(wt);
    std::string path = wt->getValue<std::string>("path");
    wtfix::write(path + "/p.txt", "p\n");
    ASSERT_EQ(req("POST", "/api/worktrees/pushed/commit", R"({"message":"p"})").status, 200);
    EXPECT_TRUE(req("GET", "/api/worktrees/pushed").json()->getValue<bool>("hasUnpushed"));
    auto p = req("POST", "/api/worktrees/pushed/push", "{}");
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(p.json()->getValue<std::string>("branch"), "feature/pushed");
    EXPECT_EQ(git(bare, {"rev-parse", "refs/heads/feature/pushed"}), git(path, {"rev-parse", "HEAD"}));
    auto after = req("GET", "/api/worktrees/pushed").json();
    EXPECT_FALSE(after->getValue<bool>("hasUnpushed"));
    EXPECT_EQ(after->getValue<int>("commitsAhead"), 0);
    EXPECT_EQ(after->getValue<int>("commitsAheadOfBase"), 1);
    EXPECT_EQ(code(req("POST", "/api/worktrees/pushed/push", R"({"remote":"nowhere"})")), "NO_REMOTE");

    // A branch that exists only on origin is checked out tracking it (OpenKit's second try).
    std::string other = wtfix::tempDir("wt-clone-");
    git(other, {"clone", "-q", bare, "c"});
    git(other + "/c", {"checkout", "-q", "-b", "remote-only"});
    wtfix::write(other + "/c/r.txt", "r\n");
    git(other + "/c", {"add", "-A"});
    git(other + "/c", {"-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "remote work"});
    git(other + "/c", {"push", "-q", "origin", "remote-only"});
    git(repo, {"fetch", "-q", "origin"});
    auto ro = createAndWait(R"({"branch":"remote-only"})");
    ASSERT_TRUE(ro);
    EXPECT_EQ(wtfix::read(ro->getValue<std::string>("path") + "/r.txt"), "r\n");
    EXPECT_EQ(git(repo, {"rev-parse", "--abbrev-ref", "remote-only@{upstream}"}), "origin/remote-only");
    EXPECT_FALSE(ro->getValue<bool>("hasUnpushed"));
    fs::remove_all(other);
    fs::remove_all(bare);
}

TEST_F(WorktreesTest, RepoWorktreesAndRepoDiff) {
    auto c = req("POST", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"atelier/run-1234\"}");
    ASSERT_EQ(c.status, 201) << c.body;
    auto o = c.json();
    std::string path = o->getValue<std::string>("path");
    EXPECT_EQ(path, repo + "/.atelier/worktrees/atelier-run-1234");
    EXPECT_EQ(o->getValue<std::string>("branch"), "atelier/run-1234");
    EXPECT_EQ(o->getValue<std::string>("baseBranch"), "main");
    EXPECT_EQ(o->getValue<std::string>("head"), git(repo, {"rev-parse", "main"}));
    EXPECT_EQ(git(path, {"rev-parse", "--abbrev-ref", "HEAD"}), "atelier/run-1234");
    auto dup = req("POST", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"atelier/run-1234\"}");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(code(dup), "BRANCH_EXISTS");
    EXPECT_EQ(code(req("POST", "/api/repo-worktrees", "{\"repoPath\":\"/tmp\",\"branch\":\"x\"}")), "NOT_A_REPOSITORY");
    EXPECT_EQ(code(req("POST", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"x\",\"path\":\"/etc/x\"}")),
              "PATH_OUTSIDE_ALLOWED");
    EXPECT_EQ(code(req("POST", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"x\",\"baseBranch\":\"nope\"}")),
              "INVALID_BASE_BRANCH");
    EXPECT_EQ(git(repo, {"branch", "--list", "x"}), "");

    wtfix::write(path + "/src/app.txt", "different\n");
    wtfix::write(path + "/added.txt", "new\n");
    auto d = req("GET", "/api/repo-diff?path=" + path + "&base=main");
    ASSERT_EQ(d.status, 200) << d.body;
    EXPECT_EQ(d.json()->getValue<std::string>("baseBranch"), "main");
    EXPECT_EQ(d.json()->getArray("files")->size(), 2u);
    EXPECT_EQ(code(req("GET", "/api/repo-diff?path=" + path + "&base=nope")), "INVALID_REF");
    EXPECT_EQ(code(req("GET", "/api/repo-diff?path=/tmp")), "NOT_A_REPOSITORY");
    EXPECT_EQ(req("GET", "/api/repo-diff").status, 400);

    auto del = req("DELETE", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"path\":\"" + path + "\",\"deleteBranch\":true}");
    ASSERT_EQ(del.status, 200) << del.body;
    EXPECT_TRUE(del.json()->getValue<bool>("branchDeleted"));
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(git(repo, {"branch", "--list", "atelier/run-1234"}), "");
    EXPECT_EQ(req("DELETE", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"path\":\"" + path + "\"}").status, 404);
    EXPECT_EQ(code(req("DELETE", "/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"path\":\"" + repo + "\"}")),
              "INVALID_PATH");
}

TEST_F(WorktreesTest, BranchesMergeAndRebase) {
    const std::string pid = wtfake::state().projectId;
    // feature: adds a file (fast-forwardable); conflicting: edits the same line as main.
    git(repo, {"checkout", "-q", "-b", "feature"});
    wtfix::write(repo + "/feature.txt", "f\n");
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-q", "-m", "feature"});
    git(repo, {"checkout", "-q", "-b", "conflicting", "main"});
    wtfix::write(repo + "/src/app.txt", "theirs\n");
    git(repo, {"commit", "-q", "-am", "theirs"});
    git(repo, {"checkout", "-q", "main"});
    wtfix::write(repo + "/src/app.txt", "ours\n");
    git(repo, {"commit", "-q", "-am", "ours"});

    auto b = req("GET", "/api/projects/" + pid + "/branches");
    ASSERT_EQ(b.status, 200) << b.body;
    auto arr = b.jsonArray();
    ASSERT_EQ(arr->size(), 3u);
    std::map<std::string, atelier::JsonObject> by;
    for (size_t i = 0; i < arr->size(); ++i) by[arr->getObject(i)->getValue<std::string>("name")] = arr->getObject(i);
    EXPECT_EQ(by["feature"]->getValue<int>("ahead"), 1);
    EXPECT_EQ(by["feature"]->getValue<int>("behind"), 1);
    EXPECT_EQ(by["feature"]->getValue<std::string>("repo_id"), "repo-1");
    EXPECT_FALSE(by["feature"]->getValue<bool>("pushed"));
    EXPECT_TRUE(by["main"]->getValue<bool>("is_head"));
    EXPECT_EQ(by["main"]->getObject("worktree")->getValue<std::string>("id"), "root");
    EXPECT_EQ(req("GET", "/api/projects/unknown/branches").status, 404);

    std::string mainBefore = git(repo, {"rev-parse", "main"});
    auto conflictMerge = req("POST", "/api/projects/" + pid + "/branches/merge?branch=conflicting&repo_id=repo-1");
    EXPECT_EQ(conflictMerge.status, 409) << conflictMerge.body;
    EXPECT_EQ(code(conflictMerge), "MERGE_CONFLICT");
    EXPECT_EQ(conflictMerge.json()->getArray("conflicts")->getElement<std::string>(0), "src/app.txt");
    EXPECT_EQ(git(repo, {"rev-parse", "main"}), mainBefore);
    EXPECT_EQ(git(repo, {"status", "--porcelain"}), "");
    EXPECT_FALSE(fs::exists(repo + "/.git/MERGE_HEAD"));

    auto conflictRebase = req("POST", "/api/projects/" + pid + "/branches/rebase?branch=conflicting&repo_id=repo-1");
    EXPECT_EQ(conflictRebase.status, 409) << conflictRebase.body;
    EXPECT_EQ(code(conflictRebase), "REBASE_CONFLICT");
    EXPECT_EQ(git(repo, {"rev-parse", "conflicting"}), git(repo, {"rev-parse", "conflicting"}));
    EXPECT_FALSE(fs::exists(repo + "/.git/rebase-merge"));
    EXPECT_EQ(git(repo, {"status", "--porcelain"}), "");

    std::string featureBefore = git(repo, {"rev-parse", "feature"});
    auto rb = req("POST", "/api/projects/" + pid + "/branches/rebase", R"({"branch":"feature","repo_id":"repo-1"})");
    ASSERT_EQ(rb.status, 200) << rb.body;
    EXPECT_EQ(rb.json()->getValue<int>("rebased"), 1);
    EXPECT_NE(git(repo, {"rev-parse", "feature"}), featureBefore);
    EXPECT_EQ(git(repo, {"rev-parse", "feature~1"}), mainBefore);

    auto m = req("POST", "/api/projects/" + pid + "/branches/merge?branch=feature&repo_id=repo-1");
    ASSERT_EQ(m.status, 200) << m.body;
    EXPECT_TRUE(m.json()->getValue<bool>("fastForward"));
    EXPECT_EQ(git(repo, {"rev-parse", "main"}), git(repo, {"rev-parse", "feature"}));
    EXPECT_EQ(wtfix::read(repo + "/feature.txt"), "f\n") << "the checked-out branch's files follow the merge";
    EXPECT_EQ(git(repo, {"status", "--porcelain"}), "");

    EXPECT_EQ(code(req("POST", "/api/projects/" + pid + "/branches/merge?branch=nope&repo_id=repo-1")), "BRANCH_NOT_FOUND");
    EXPECT_EQ(code(req("POST", "/api/projects/" + pid + "/branches/merge?branch=feature&repo_id=zzz")), "REPO_NOT_FOUND");
    EXPECT_EQ(req("POST", "/api/projects/" + pid + "/branches/merge?repo_id=repo-1").status, 400);
    EXPECT_EQ(code(req("DELETE", "/api/projects/" + pid + "/branches?branch=main&repo_id=repo-1")), "BRANCH_IN_USE");
    EXPECT_EQ(req("DELETE", "/api/projects/" + pid + "/branches?branch=feature&repo_id=repo-1").status, 204);
    EXPECT_EQ(git(repo, {"branch", "--list", "feature"}), "");
    EXPECT_EQ(code(req("DELETE", "/api/projects/" + pid + "/branches?branch=feature&repo_id=repo-1")), "BRANCH_NOT_FOUND");
}

TEST_F(WorktreesTest, StatusChangesAreRepublishedByTheRefresher) {
    host = std::make_unique<atelier::testing::FakeHost>();
    host->setConfig("worktrees", R"({"statusRefreshMs":50})");
    host->load(wtfake::fakeProjectsEntry());
    host->load(atelier_module_entry_v1());
    auto wt = createAndWait(R"({"branch":"watched"})");
    ASSERT_TRUE(wt);
    EXPECT_FALSE(wt->getValue<bool>("hasUncommitted"));
    // An edit made outside Atelier (an agent, an editor) is noticed and pushed as an event.
    wtfix::write(wt->getValue<std::string>("path") + "/edited.txt", "x\n");
    bool seen = wtfix::waitFor([&] {
        for (auto& e : eventsOf("worktrees.changed")) {
            auto list = e.payloadJson()->getArray("worktrees");
            for (size_t i = 0; list && i < list->size(); ++i) {
                auto o = list->getObject(i);
                if (o->getValue<std::string>("id") == "watched" && o->getValue<bool>("hasUncommitted")) return true;
            }
        }
        return false;
    });
    EXPECT_TRUE(seen);
    EXPECT_TRUE(req("GET", "/api/worktrees/watched").json()->getValue<bool>("hasUncommitted"));
    // No change, no event.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    size_t before = eventsOf("worktrees.changed").size();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(eventsOf("worktrees.changed").size(), before);
}

TEST_F(WorktreesTest, InitialStateHookFillsDefaultProjectWorktrees) {
    ASSERT_TRUE(createAndWait(R"({"branch":"sse"})"));
    std::string out;
    auto* api = host->api();
    // Any module context can run the hook; use a throwaway context bound to this host.
    atelier_module_ctx ctx{host.get(), "host", "", "{}"};
    int rc = api->hook_run(&ctx, atelier::str("events.initial_state"), atelier::str(R"({"worktrees":[]})"), atelier::appendSink, &out);
    ASSERT_EQ(rc, ATELIER_OK);
    auto o = atelier::parseObject(out);
    ASSERT_TRUE(o) << out;
    auto arr = o->getArray("worktrees");
    ASSERT_EQ(arr->size(), 2u);
    EXPECT_EQ(arr->getObject(0)->getValue<std::string>("id"), "root");
    EXPECT_EQ(arr->getObject(1)->getValue<std::string>("id"), "sse");
}

}  // namespace
