// The projects module through the fake host: the project resource, repos, ordering, files,
// export, init and the active project, over real repositories made with libgit2.
#include <gtest/gtest.h>

#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "git_fixture.hpp"

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

namespace fs = std::filesystem;
using atelier::JsonObject;
using atelier::testing::FakeHost;
using atelier::testing::FakeResponse;
using projects::testing::makeRepo;
using projects::testing::ScopedCwd;
using projects::testing::tempDir;
using projects::testing::writeFile;

std::string str(const JsonObject& o, const std::string& k) { return o->getValue<std::string>(k); }
std::string code(const FakeResponse& r) {
    auto o = r.json();
    return o && o->has("code") ? o->getValue<std::string>("code") : "<no code: " + r.body + ">";
}
std::string readText(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
bool isIsoUtc(const std::string& s) { return s.size() == 24 && s[10] == 'T' && s.back() == 'Z'; }

class ProjectsTest : public ::testing::Test {
protected:
    // Starts in a directory that is not a repository, so nothing is auto-registered.
    ProjectsTest() : cwdDir_(tempDir("projects-cwd-")), cwd_(cwdDir_) {}
    void SetUp() override { host_.load(atelier_module_entry_v1()); }

    FakeResponse req(const std::string& m, const std::string& path, const std::string& body = {},
                     std::map<std::string, std::string> headers = {}) {
        return host_.request(m, path, body, headers);
    }
    JsonObject create(const std::string& body) {
        auto r = req("POST", "/api/projects", body);
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json();
    }
    int64_t countProjects() { return static_cast<int64_t>(req("GET", "/api/projects").jsonArray()->size()); }
    std::vector<std::string> eventTypes() {
        std::vector<std::string> out;
        for (auto& e : host_.events()) out.push_back(e.type);
        return out;
    }

    std::string cwdDir_;
    ScopedCwd cwd_;
    FakeHost host_;
};

TEST_F(ProjectsTest, CreateWithNameOnlyUsesDefaults) {
    auto createdRes = req("POST", "/api/projects", R"({"name":"My App"})");
    ASSERT_EQ(createdRes.status, 201);
    auto p = createdRes.json();
    ASSERT_TRUE(p);
    EXPECT_TRUE(atelier::isUuid(str(p, "id")));
    EXPECT_EQ(str(p, "name"), "My App");
    EXPECT_EQ(str(p, "slug"), "my-app");
    EXPECT_EQ(str(p, "owner_id"), "user-1");
    EXPECT_TRUE(p->isNull("local_path"));
    EXPECT_TRUE(p->isNull("path"));
    EXPECT_TRUE(p->isNull("description"));
    EXPECT_TRUE(p->isNull("repo_source"));
    EXPECT_TRUE(p->isNull("organizationId"));
    ASSERT_TRUE(p->getArray("repos"));
    EXPECT_EQ(p->getArray("repos")->size(), 0u);
    EXPECT_TRUE(isIsoUtc(str(p, "created_at"))) << str(p, "created_at");
    EXPECT_EQ(str(p, "created_at"), str(p, "updated_at"));

    auto byId = req("GET", "/api/projects/" + str(p, "id"));
    ASSERT_EQ(byId.status, 200);
    EXPECT_EQ(byId.body, createdRes.body) << "create and get answer the same object";
    auto bySlug = req("GET", "/api/projects/my-app");
    ASSERT_EQ(bySlug.status, 200);
    EXPECT_EQ(str(bySlug.json(), "id"), str(p, "id"));

    auto events = host_.events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, "project.created");
    EXPECT_EQ(events[0].projectId, str(p, "id"));
    EXPECT_EQ(str(events[0].payloadJson()->getObject("project"), "slug"), "my-app");
}

TEST_F(ProjectsTest, CreateWithEveryKombuseField) {
    std::string id = "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    auto p = create(R"({"id":")" + id +
                    R"(","name":"Web","slug":"web-ui","description":"Front end","owner_id":"owner-7",
                      "repo_source":"github","repo_owner":"acme","repo_name":"web","organizationId":"org-1"})");
    EXPECT_EQ(str(p, "id"), id);
    EXPECT_EQ(str(p, "slug"), "web-ui");
    EXPECT_EQ(str(p, "description"), "Front end");
    EXPECT_EQ(str(p, "owner_id"), "owner-7");
    EXPECT_EQ(str(p, "repo_source"), "github");
    EXPECT_EQ(str(p, "repo_owner"), "acme");
    EXPECT_EQ(str(p, "repo_name"), "web");
    EXPECT_EQ(str(p, "organizationId"), "org-1");

    auto dupId = req("POST", "/api/projects", R"({"id":")" + id + R"(","name":"Other"})");
    EXPECT_EQ(dupId.status, 409);
    EXPECT_EQ(code(dupId), "PROJECT_EXISTS");
}

TEST_F(ProjectsTest, SlugsAreUniqueAndKebabCase) {
    create(R"({"name":"Same Name"})");
    auto second = create(R"({"name":"Same Name"})");
    EXPECT_EQ(str(second, "slug"), "same-name-2");
    auto symbols = create(R"({"name":"!!!"})");
    EXPECT_EQ(str(symbols, "slug"), "project");

    auto dup = req("POST", "/api/projects", R"({"name":"X","slug":"same-name"})");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(code(dup), "DUPLICATE_SLUG");
    EXPECT_NE(dup.body.find("same-name"), std::string::npos);
    EXPECT_FALSE(dup.json()->getValue<bool>("success"));

    for (auto bad : {"Upper", "a--b", "-a", "a-", "with space", "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}) {
        auto r = req("POST", "/api/projects", std::string(R"({"name":"X","slug":")") + bad + "\"}");
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(str(r.json()->getArray("details")->getObject(0), "field"), "slug") << bad;
    }
    EXPECT_EQ(countProjects(), 3);
}

TEST_F(ProjectsTest, CreateRejectsBadInputWithoutWriting) {
    struct Case {
        std::string body, code, field;
    };
    std::vector<Case> cases = {
        {"{not json", "INVALID_JSON", ""},
        {"[1,2]", "INVALID_JSON", ""},
        {"{}", "VALIDATION_ERROR", "name"},
        {R"({"name":""})", "VALIDATION_ERROR", "name"},
        {R"({"name":"   "})", "VALIDATION_ERROR", "name"},
        {R"({"name":42})", "VALIDATION_ERROR", "name"},
        {R"({"name":"x","id":"not-a-uuid"})", "VALIDATION_ERROR", "id"},
        {R"({"name":"x","owner_id":7})", "VALIDATION_ERROR", "owner_id"},
        {R"({"name":"x","owner_id":""})", "VALIDATION_ERROR", "owner_id"},
        {R"({"name":"x","repo_source":"svn"})", "VALIDATION_ERROR", "repo_source"},
        {R"({"name":"x","local_path":"relative/dir"})", "INVALID_PATH", "local_path"},
        {R"({"name":"x","local_path":"/tmp/../etc"})", "INVALID_PATH", "local_path"},
        {R"({"name":"x","local_path":true})", "VALIDATION_ERROR", "local_path"},
        {R"({"name":"x","local_path":"/a","path":"/b"})", "VALIDATION_ERROR", "path"},
        {R"({"name":"x","description":["d"]})", "VALIDATION_ERROR", "description"},
    };
    for (auto& c : cases) {
        auto r = req("POST", "/api/projects", c.body);
        EXPECT_EQ(r.status, 400) << c.body << " → " << r.body;
        EXPECT_EQ(code(r), c.code) << c.body;
        if (!c.field.empty()) {
            auto d = r.json()->getArray("details");
            ASSERT_TRUE(d) << c.body;
            EXPECT_EQ(str(d->getObject(0), "field"), c.field) << c.body;
        }
    }
    EXPECT_EQ(countProjects(), 0);
    EXPECT_TRUE(host_.events().empty());
}

TEST_F(ProjectsTest, LocalPathRepositoryIsTheFirstRepo) {
    auto repo = makeRepo({{"a.txt", "a"}});
    auto p = create(R"({"name":"Repo","path":")" + repo + R"(/"})");  // boards-product alias, trailing slash
    EXPECT_EQ(str(p, "local_path"), repo);
    EXPECT_EQ(str(p, "path"), repo);
    auto repos = p->getArray("repos");
    ASSERT_EQ(repos->size(), 1u);
    auto r0 = repos->getObject(0);
    EXPECT_TRUE(atelier::isUuid(str(r0, "id")));
    EXPECT_EQ(str(r0, "project_id"), str(p, "id"));
    EXPECT_EQ(str(r0, "path"), repo);
    EXPECT_EQ(str(r0, "repo_path"), repo);
    EXPECT_EQ(str(r0, "name"), fs::path(repo).filename().string());
    EXPECT_EQ(str(r0, "default_branch"), "main");
    EXPECT_TRUE(r0->getValue<bool>("is_primary"));

    auto dup = req("POST", "/api/projects", R"({"name":"Again","local_path":")" + repo + "\"}");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(code(dup), "LOCAL_PATH_IN_USE");

    auto onFile = req("POST", "/api/projects", R"({"name":"File","local_path":")" + repo + "/a.txt\"}");
    EXPECT_EQ(onFile.status, 400);
    EXPECT_EQ(code(onFile), "NOT_A_DIRECTORY");
    // A directory that does not exist yet is accepted (Kombuse stores it as metadata).
    auto future = create(R"({"name":"Future","local_path":"/nonexistent/atelier/future"})");
    EXPECT_EQ(str(future, "local_path"), "/nonexistent/atelier/future");
    EXPECT_EQ(future->getArray("repos")->size(), 0u);
    // A directory that is not a repository is a valid local_path without repos.
    auto plain = tempDir();
    auto q = create(R"({"name":"Plain","local_path":")" + plain + "\"}");
    EXPECT_EQ(q->getArray("repos")->size(), 0u);
    // So is a repository without commits (its HEAD branch is still known).
    auto empty = makeRepo({}, false);
    auto e = create(R"({"name":"Empty","local_path":")" + empty + "\"}");
    ASSERT_EQ(e->getArray("repos")->size(), 1u);
    EXPECT_EQ(str(e->getArray("repos")->getObject(0), "default_branch"), "main");
}

TEST_F(ProjectsTest, UpdateChangesFieldsAndPublishes) {
    auto p = create(R"({"name":"Alpha","description":"d","repo_source":"gitlab"})");
    create(R"({"name":"Beta"})");
    std::string id = str(p, "id");

    auto r = req("PATCH", "/api/projects/alpha", R"({"name":"Alpha 2","description":null,"repo_source":"bitbucket",
                                                     "organization_id":"org-9"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto u = r.json();
    EXPECT_EQ(str(u, "name"), "Alpha 2");
    EXPECT_EQ(str(u, "slug"), "alpha") << "renaming keeps the slug";
    EXPECT_TRUE(u->isNull("description"));
    EXPECT_EQ(str(u, "repo_source"), "bitbucket");
    EXPECT_EQ(str(u, "organizationId"), "org-9");
    EXPECT_GE(str(u, "updated_at"), str(p, "updated_at"));

    auto last = host_.events().back();
    EXPECT_EQ(last.type, "project.updated");
    auto changes = last.payloadJson()->getArray("changes");
    ASSERT_TRUE(changes);
    EXPECT_EQ(changes->size(), 4u);

    // No-op patch: 200, same object, no event.
    auto before = host_.events().size();
    auto same = req("PATCH", "/api/projects/" + id, "{}");
    EXPECT_EQ(same.status, 200);
    EXPECT_EQ(str(same.json(), "name"), "Alpha 2");
    EXPECT_EQ(host_.events().size(), before);

    auto slugTaken = req("PATCH", "/api/projects/" + id, R"({"slug":"beta"})");
    EXPECT_EQ(slugTaken.status, 409);
    EXPECT_EQ(code(slugTaken), "DUPLICATE_SLUG");
    auto nullName = req("PATCH", "/api/projects/" + id, R"({"name":null})");
    EXPECT_EQ(nullName.status, 400);
    auto badSource = req("PATCH", "/api/projects/" + id, R"({"repo_source":"cvs"})");
    EXPECT_EQ(badSource.status, 400);
    auto badJson = req("PATCH", "/api/projects/" + id, R"({"name":)");
    EXPECT_EQ(code(badJson), "INVALID_JSON");
    auto unknown = req("PATCH", "/api/projects/nope", R"({"name":"x"})");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(code(unknown), "PROJECT_NOT_FOUND");
    EXPECT_EQ(str(req("GET", "/api/projects/" + id).json(), "slug"), "alpha") << "failed patches change nothing";

    auto newSlug = req("PATCH", "/api/projects/" + id, R"({"slug":"alpha-renamed"})");
    EXPECT_EQ(str(newSlug.json(), "slug"), "alpha-renamed");
    EXPECT_EQ(req("GET", "/api/projects/alpha-renamed").status, 200);
    EXPECT_EQ(req("GET", "/api/projects/alpha").status, 404);
}

TEST_F(ProjectsTest, UpdatingLocalPathMovesThePrimaryRepo) {
    auto repoA = makeRepo();
    auto repoB = makeRepo();
    auto p = create(R"({"name":"Moving","local_path":")" + repoA + "\"}");
    std::string id = str(p, "id");
    auto extra = req("POST", "/api/projects/" + id + "/repos", R"({"name":"b","repo_path":")" + repoB + "\"}");
    ASSERT_EQ(extra.status, 201) << extra.body;

    auto moved = req("PATCH", "/api/projects/" + id, R"({"local_path":")" + repoB + "\"}").json();
    auto repos = moved->getArray("repos");
    ASSERT_EQ(repos->size(), 1u) << "repo A was the old primary; B is promoted, not duplicated";
    EXPECT_EQ(str(repos->getObject(0), "path"), repoB);
    EXPECT_TRUE(repos->getObject(0)->getValue<bool>("is_primary"));

    auto cleared = req("PATCH", "/api/projects/" + id, R"({"local_path":null})").json();
    EXPECT_TRUE(cleared->isNull("local_path"));
    EXPECT_EQ(cleared->getArray("repos")->size(), 0u);

    auto other = create(R"({"name":"Other","local_path":")" + repoA + "\"}");
    auto clash = req("PATCH", "/api/projects/" + id, R"({"local_path":")" + repoA + "\"}");
    EXPECT_EQ(clash.status, 409);
    EXPECT_EQ(code(clash), "LOCAL_PATH_IN_USE");
    auto traversal = req("PATCH", "/api/projects/" + id, R"({"path":"/tmp/x/../../etc"})");
    EXPECT_EQ(traversal.status, 400);
    EXPECT_EQ(code(traversal), "INVALID_PATH");
}

TEST_F(ProjectsTest, DeleteRemovesProjectAndRepos) {
    auto repo = makeRepo();
    auto p = create(R"({"name":"Doomed","local_path":")" + repo + "\"}");
    auto d = req("DELETE", "/api/projects/doomed");
    EXPECT_EQ(d.status, 204);
    EXPECT_TRUE(d.body.empty());
    EXPECT_EQ(req("GET", "/api/projects/" + str(p, "id")).status, 404);
    auto again = req("DELETE", "/api/projects/doomed");
    EXPECT_EQ(again.status, 404);
    EXPECT_EQ(code(again), "PROJECT_NOT_FOUND");
    auto ev = host_.events().back();
    EXPECT_EQ(ev.type, "project.deleted");
    EXPECT_EQ(ev.projectId, str(p, "id"));
    EXPECT_EQ(str(ev.payloadJson()->getObject("project"), "local_path"), repo);
    // The path is free again.
    auto re = create(R"({"name":"Reborn","local_path":")" + repo + "\"}");
    EXPECT_EQ(re->getArray("repos")->size(), 1u);
}

TEST_F(ProjectsTest, ListFiltersAndPaginates) {
    create(R"({"name":"Alpha Service","owner_id":"u1","repo_source":"github"})");
    create(R"({"name":"beta 100% done","owner_id":"u2","repo_source":"gitlab"})");
    create(R"({"name":"Gamma","owner_id":"u1","organizationId":"org-a"})");

    auto names = [&](const std::string& q) {
        auto r = req("GET", "/api/projects" + q);
        EXPECT_EQ(r.status, 200) << q << r.body;
        std::vector<std::string> out;
        auto a = r.jsonArray();
        if (a)
            for (size_t i = 0; i < a->size(); ++i) out.push_back(str(a->getObject(static_cast<unsigned>(i)), "name"));
        return out;
    };
    EXPECT_EQ(names(""), (std::vector<std::string>{"Alpha Service", "beta 100% done", "Gamma"}));
    EXPECT_EQ(names("?owner_id=u1"), (std::vector<std::string>{"Alpha Service", "Gamma"}));
    EXPECT_EQ(names("?repo_source=gitlab"), (std::vector<std::string>{"beta 100% done"}));
    EXPECT_EQ(names("?search=ALPHA"), (std::vector<std::string>{"Alpha Service"}));
    EXPECT_EQ(names("?search=%25"), (std::vector<std::string>{"beta 100% done"})) << "% is literal";
    EXPECT_EQ(names("?organizationId=org-a"), (std::vector<std::string>{"Gamma"}));
    EXPECT_EQ(names("?limit=1&offset=1"), (std::vector<std::string>{"beta 100% done"}));
    EXPECT_EQ(names("?limit=500").size(), 3u) << "limit is clamped to 100";
    EXPECT_TRUE(names("?offset=10").empty());

    auto badLimit = req("GET", "/api/projects?limit=ten");
    EXPECT_EQ(badLimit.status, 400);
    EXPECT_EQ(str(badLimit.json()->getArray("details")->getObject(0), "field"), "limit");
    auto badSource = req("GET", "/api/projects?repo_source=svn");
    EXPECT_EQ(badSource.status, 400);
    // Every project in the list carries repos.
    auto all = req("GET", "/api/projects").jsonArray();
    for (size_t i = 0; i < all->size(); ++i) EXPECT_TRUE(all->getObject(static_cast<unsigned>(i))->getArray("repos"));
}

TEST_F(ProjectsTest, ReposAddAndRemove) {
    auto p = create(R"({"name":"Multi"})");
    std::string id = str(p, "id");
    auto repo = makeRepo();
    auto added = req("POST", "/api/projects/" + id + "/repos", R"({"name":"backend","repo_path":")" + repo + "\"}");
    ASSERT_EQ(added.status, 201) << added.body;
    auto r = added.json();
    EXPECT_EQ(str(r, "name"), "backend");
    EXPECT_EQ(str(r, "repo_path"), repo);
    EXPECT_EQ(str(r, "path"), repo);
    EXPECT_EQ(str(r, "project_id"), id);
    EXPECT_EQ(str(r, "default_branch"), "main");
    EXPECT_FALSE(r->getValue<bool>("is_primary"));
    EXPECT_TRUE(isIsoUtc(str(r, "created_at")));
    auto got = req("GET", "/api/projects/" + id).json()->getArray("repos");
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(str(got->getObject(0), "id"), str(r, "id"));

    // `path` works as the field name too, and the name defaults to the directory name.
    auto repo2 = makeRepo();
    auto second = req("POST", "/api/projects/multi/repos", R"({"path":")" + repo2 + "\"}");
    ASSERT_EQ(second.status, 201);
    EXPECT_EQ(str(second.json(), "name"), fs::path(repo2).filename().string());

    auto dup = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":")" + repo + "\"}");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(code(dup), "REPO_EXISTS");
    auto missing = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":"/definitely/not/here"})");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(code(missing), "PATH_NOT_FOUND");
    auto plain = tempDir();
    auto notRepo = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":")" + plain + "\"}");
    EXPECT_EQ(notRepo.status, 400);
    EXPECT_EQ(code(notRepo), "NOT_A_GIT_REPOSITORY");
    fs::create_directories(repo + "/sub");
    auto sub = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":")" + repo + "/sub\"}");
    EXPECT_EQ(code(sub), "NOT_A_GIT_REPOSITORY") << "a subdirectory has no .git";
    auto bareDir = tempDir();
    git_libgit2_init();
    git_repository* bare = nullptr;
    ASSERT_EQ(git_repository_init(&bare, bareDir.c_str(), 1), 0);
    git_repository_free(bare);
    git_libgit2_shutdown();
    auto bareRes = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":")" + bareDir + "\"}");
    EXPECT_EQ(code(bareRes), "NOT_A_GIT_REPOSITORY") << "a bare repository has no working directory";
    auto file = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":")" + repo + "/README.md\"}");
    EXPECT_EQ(code(file), "NOT_A_DIRECTORY");
    auto rel = req("POST", "/api/projects/" + id + "/repos", R"({"repo_path":"../x"})");
    EXPECT_EQ(code(rel), "INVALID_PATH");
    auto noPath = req("POST", "/api/projects/" + id + "/repos", R"({"name":"x"})");
    EXPECT_EQ(noPath.status, 400);
    auto unknownProject = req("POST", "/api/projects/nope/repos", R"({"repo_path":")" + repo + "\"}");
    EXPECT_EQ(unknownProject.status, 404);
    EXPECT_EQ(req("GET", "/api/projects/" + id).json()->getArray("repos")->size(), 2u);
    // The list carries the same repos as the single-project answer.
    create(R"({"name":"Bystander"})");
    auto listed = req("GET", "/api/projects").jsonArray();
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ(atelier::toJson(listed->getObject(0)->getArray("repos")),
              atelier::toJson(req("GET", "/api/projects/" + id).json()->getArray("repos")));
    EXPECT_EQ(listed->getObject(1)->getArray("repos")->size(), 0u);

    auto del = req("DELETE", "/api/projects/" + id + "/repos/" + str(r, "id"));
    EXPECT_EQ(del.status, 204);
    EXPECT_EQ(req("GET", "/api/projects/" + id).json()->getArray("repos")->size(), 1u);
    auto delAgain = req("DELETE", "/api/projects/" + id + "/repos/" + str(r, "id"));
    EXPECT_EQ(delAgain.status, 404);
    EXPECT_EQ(code(delAgain), "REPO_NOT_FOUND");
    EXPECT_EQ(req("DELETE", "/api/projects/nope/repos/" + str(r, "id")).status, 404);

    // The local_path repository cannot be removed on its own.
    auto rooted = create(R"({"name":"Rooted","local_path":")" + repo + "\"}");
    ASSERT_TRUE(rooted);
    auto primaryId = str(rooted->getArray("repos")->getObject(0), "id");
    auto refused = req("DELETE", "/api/projects/rooted/repos/" + primaryId);
    EXPECT_EQ(refused.status, 409);
    EXPECT_EQ(code(refused), "PRIMARY_REPO");
}

TEST_F(ProjectsTest, ReorderAndLastOpened) {
    auto a = create(R"({"name":"A"})");
    auto b = create(R"({"name":"B"})");
    auto c = create(R"({"name":"C"})");
    auto r = req("PATCH", "/api/projects/reorder", R"({"ids":[")" + str(c, "id") + R"(","a"]})");
    EXPECT_EQ(r.status, 204) << r.body;
    auto list = req("GET", "/api/projects").jsonArray();
    ASSERT_EQ(list->size(), 3u);
    EXPECT_EQ(str(list->getObject(0), "name"), "C");
    EXPECT_EQ(str(list->getObject(1), "name"), "A");
    EXPECT_EQ(str(list->getObject(2), "name"), "B");
    EXPECT_EQ(list->getObject(0)->getValue<int64_t>("position"), 0);

    EXPECT_EQ(code(req("PATCH", "/api/projects/reorder", R"({})")), "VALIDATION_ERROR");
    EXPECT_EQ(code(req("PATCH", "/api/projects/reorder", R"({"ids":"a"})")), "VALIDATION_ERROR");
    EXPECT_EQ(code(req("PATCH", "/api/projects/reorder", R"({"ids":[1]})")), "VALIDATION_ERROR");
    EXPECT_EQ(code(req("PATCH", "/api/projects/reorder", R"({"ids":["a","a"]})")), "VALIDATION_ERROR");
    EXPECT_EQ(code(req("PATCH", "/api/projects/reorder", R"({"ids":["a",")" + str(a, "id") + "\"]}")),
              "VALIDATION_ERROR");
    auto unknown = req("PATCH", "/api/projects/reorder", R"({"ids":["b","ghost"]})");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(str(req("GET", "/api/projects").jsonArray()->getObject(0), "name"), "C")
        << "a refused reorder changes nothing";

    EXPECT_TRUE(req("GET", "/api/projects/b").json()->isNull("last_opened_at"));
    auto opened = req("PATCH", "/api/projects/" + str(b, "id") + "/last-opened");
    EXPECT_EQ(opened.status, 204);
    EXPECT_TRUE(isIsoUtc(str(req("GET", "/api/projects/b").json(), "last_opened_at")));
    EXPECT_EQ(req("PATCH", "/api/projects/ghost/last-opened").status, 404);
}

TEST_F(ProjectsTest, FilesListsTrackedFilesFromTheIndex) {
    auto repo =
        makeRepo({{"README.md", "r"}, {"src/main.rs", "fn main(){}"}, {"src/lib/util.rs", "u"}, {"Cargo.toml", "c"}});
    writeFile(fs::path(repo) / "untracked.txt", "u");
    auto p = create(R"({"name":"Files","local_path":")" + repo + "\"}");
    auto r = req("GET", "/api/projects/files/files");
    ASSERT_EQ(r.status, 200) << r.body;
    auto data = r.json()->getArray("data");
    ASSERT_TRUE(data);
    std::vector<std::string> files;
    for (size_t i = 0; i < data->size(); ++i) files.push_back(data->getElement<std::string>(static_cast<unsigned>(i)));
    EXPECT_EQ(files, (std::vector<std::string>{"Cargo.toml", "README.md", "src/lib/util.rs", "src/main.rs"}));

    // A project in a subdirectory of a repository sees its own files, relative to itself.
    auto sub = create(R"({"name":"Sub","local_path":")" + repo + "/src\"}");
    EXPECT_EQ(str(sub->getArray("repos")->getObject(0), "path"), repo);
    auto subFiles = req("GET", "/api/projects/sub/files").json()->getArray("data");
    ASSERT_EQ(subFiles->size(), 2u);
    EXPECT_EQ(subFiles->getElement<std::string>(0), "lib/util.rs");

    // ?repo_id= picks one repository of the project.
    auto other = makeRepo({{"only.txt", "o"}});
    auto added = req("POST", "/api/projects/files/repos", R"({"repo_path":")" + other + "\"}").json();
    auto byRepo = req("GET", "/api/projects/files/files?repo_id=" + str(added, "id")).json()->getArray("data");
    ASSERT_EQ(byRepo->size(), 1u);
    EXPECT_EQ(byRepo->getElement<std::string>(0), "only.txt");
    EXPECT_EQ(code(req("GET", "/api/projects/files/files?repo_id=nope")), "REPO_NOT_FOUND");

    create(R"({"name":"No Path"})");
    auto noPath = req("GET", "/api/projects/no-path/files");
    EXPECT_EQ(noPath.status, 400);
    EXPECT_EQ(code(noPath), "NO_LOCAL_PATH");
    auto plain = tempDir();
    create(R"({"name":"Plain","local_path":")" + plain + "\"}");
    auto notRepo = req("GET", "/api/projects/plain/files");
    EXPECT_EQ(notRepo.status, 400);
    EXPECT_EQ(code(notRepo), "NOT_A_GIT_REPOSITORY");
    EXPECT_EQ(req("GET", "/api/projects/ghost/files").status, 404);
}

TEST_F(ProjectsTest, FilesWithCharactersThatNeedEscaping) {
    std::string odd = "we\"ird\\na\tme.txt";
    auto repo = makeRepo({{odd, "x"}, {"ünï.txt", "u"}});
    create(R"({"name":"Odd","local_path":")" + repo + "\"}");
    auto r = req("GET", "/api/projects/odd/files");
    ASSERT_EQ(r.status, 200);
    auto data = r.json()->getArray("data");
    ASSERT_TRUE(data) << r.body;
    ASSERT_EQ(data->size(), 2u);
    EXPECT_EQ(data->getElement<std::string>(0), odd);
    EXPECT_EQ(data->getElement<std::string>(1), "ünï.txt");
}

TEST_F(ProjectsTest, ExportIsAJsonDownload) {
    auto repo = makeRepo();
    auto p = create(R"({"name":"Export Me","local_path":")" + repo + "\"}");
    auto r = req("GET", "/api/projects/export-me/export");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Disposition"), "attachment; filename=\"export-me.json\"");
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    auto o = r.json();
    EXPECT_EQ(o->getValue<int>("version"), 1);
    EXPECT_TRUE(isIsoUtc(str(o, "exported_at")));
    EXPECT_EQ(str(o->getObject("project"), "id"), str(p, "id"));
    EXPECT_EQ(o->getObject("project")->getArray("repos")->size(), 1u);
    EXPECT_FALSE(o->has("boards")) << "no boards module is loaded";
    EXPECT_EQ(req("GET", "/api/projects/ghost/export").status, 404);
}

class ProjectsInitTest : public ProjectsTest {
protected:
    void SetUp() override {
        host_.setConfig("projects", R"({"mcpUrl":"http://127.0.0.1:4321/mcp"})");
        ProjectsTest::SetUp();
    }
};

TEST_F(ProjectsInitTest, WritesSetupFilesOnceAndHonoursSkipFlags) {
    auto repo = makeRepo();
    writeFile(fs::path(repo) / ".gitignore", "node_modules/");
    writeFile(fs::path(repo) / ".mcp.json", R"({"mcpServers":{"other":{"command":"x"}},"keep":1})");
    create(R"({"name":"Init","local_path":")" + repo + "\"}");

    auto r = req("POST", "/api/projects/init/init", "");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_TRUE(o->getValue<bool>("success"));
    EXPECT_EQ(str(o, "local_path"), repo);
    std::map<std::string, std::string> actions;
    auto steps = o->getArray("steps");
    for (size_t i = 0; i < steps->size(); ++i) {
        auto s = steps->getObject(static_cast<unsigned>(i));
        actions[str(s, "path")] = str(s, "action");
    }
    EXPECT_EQ(actions[".mcp.json"], "updated");
    EXPECT_EQ(actions["AGENTS.md"], "created");
    EXPECT_EQ(actions[".atelier/"], "created");
    EXPECT_EQ(actions[".atelier/.gitignore"], "created");
    EXPECT_EQ(actions[".gitignore"], "updated");

    auto mcp = atelier::parseObject(readText(fs::path(repo) / ".mcp.json"));
    ASSERT_TRUE(mcp);
    EXPECT_EQ(mcp->getValue<int>("keep"), 1);
    EXPECT_TRUE(mcp->getObject("mcpServers")->has("other"));
    EXPECT_EQ(str(mcp->getObject("mcpServers")->getObject("atelier"), "url"), "http://127.0.0.1:4321/mcp");
    EXPECT_NE(readText(fs::path(repo) / "AGENTS.md").find("## Atelier"), std::string::npos);
    EXPECT_TRUE(fs::is_directory(fs::path(repo) / ".atelier"));
    EXPECT_EQ(readText(fs::path(repo) / ".atelier/.gitignore"), "*\n!.gitignore\n!config.json\n");
    auto gi = readText(fs::path(repo) / ".gitignore");
    EXPECT_EQ(gi.rfind("node_modules/\n", 0), 0u) << gi;
    EXPECT_NE(gi.find(".atelier/worktrees/"), std::string::npos);

    // Idempotent: a second run changes nothing.
    auto again = req("POST", "/api/projects/init/init", "{}").json()->getArray("steps");
    for (size_t i = 0; i < again->size(); ++i)
        EXPECT_EQ(str(again->getObject(static_cast<unsigned>(i)), "action"), "unchanged")
            << str(again->getObject(static_cast<unsigned>(i)), "path");
    EXPECT_EQ(readText(fs::path(repo) / ".gitignore"), gi);

    // Skip flags.
    auto fresh = tempDir();
    create(R"({"name":"Skip","local_path":")" + fresh + "\"}");
    auto skipped = req("POST", "/api/projects/skip/init",
                       R"({"skipMcpJson":true,"skipAgentsMd":true,"skipKombuseDir":true,"skipGitignore":false})");
    ASSERT_EQ(skipped.status, 200) << skipped.body;
    EXPECT_FALSE(fs::exists(fs::path(fresh) / ".mcp.json"));
    EXPECT_FALSE(fs::exists(fs::path(fresh) / "AGENTS.md"));
    EXPECT_FALSE(fs::exists(fs::path(fresh) / ".atelier"));
    EXPECT_TRUE(fs::exists(fs::path(fresh) / ".gitignore"));
}

TEST_F(ProjectsInitTest, RefusesWithoutWritingAnything) {
    create(R"({"name":"No Path"})");
    auto noPath = req("POST", "/api/projects/no-path/init", "{}");
    EXPECT_EQ(noPath.status, 400);
    EXPECT_EQ(code(noPath), "NO_LOCAL_PATH");
    auto unknown = req("POST", "/api/projects/ghost/init", "{}");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(code(unknown), "PROJECT_NOT_FOUND");

    auto dir = tempDir();
    create(R"({"name":"Guarded","local_path":")" + dir + "\"}");
    auto badFlag = req("POST", "/api/projects/guarded/init", R"({"skipMcpJson":"yes"})");
    EXPECT_EQ(badFlag.status, 400);
    EXPECT_EQ(str(badFlag.json()->getArray("details")->getObject(0), "field"), "skipMcpJson");

    writeFile(fs::path(dir) / ".mcp.json", "{broken");
    auto broken = req("POST", "/api/projects/guarded/init", "{}");
    EXPECT_EQ(broken.status, 409);
    EXPECT_EQ(code(broken), "INVALID_MCP_JSON");
    EXPECT_FALSE(fs::exists(fs::path(dir) / "AGENTS.md")) << "nothing is written when a step is refused";
    EXPECT_FALSE(fs::exists(fs::path(dir) / ".atelier"));
    EXPECT_EQ(readText(fs::path(dir) / ".mcp.json"), "{broken");

    // A symlink that leads outside the project directory is refused.
    fs::remove(fs::path(dir) / ".mcp.json");
    auto outside = tempDir();
    fs::create_symlink(fs::path(outside) / "AGENTS.md", fs::path(dir) / "AGENTS.md");
    auto escape = req("POST", "/api/projects/guarded/init", "{}");
    EXPECT_EQ(escape.status, 409);
    EXPECT_EQ(code(escape), "PATH_OUTSIDE_PROJECT");
    EXPECT_FALSE(fs::exists(fs::path(outside) / "AGENTS.md"));
    EXPECT_FALSE(fs::exists(fs::path(dir) / ".mcp.json"));

    // local_path that no longer exists.
    auto gone = tempDir();
    create(R"({"name":"Gone","local_path":")" + gone + "\"}");
    fs::remove_all(gone);
    auto g = req("POST", "/api/projects/gone/init", "{}");
    EXPECT_EQ(g.status, 400);
    EXPECT_EQ(code(g), "LOCAL_PATH_NOT_FOUND");
}

TEST_F(ProjectsTest, ActiveProjectFromQueryHeaderOrNothing) {
    auto none = req("GET", "/api/active-project");
    EXPECT_EQ(none.status, 400);
    EXPECT_EQ(
        none.body,
        R"({"success":false,"error":"No active project: pass ?project=<id|slug> or the X-Atelier-Project header","code":"NO_ACTIVE_PROJECT"})");

    auto a = create(R"({"name":"Alpha"})");
    create(R"({"name":"Beta"})");
    auto q = req("GET", "/api/active-project?project=alpha");
    ASSERT_EQ(q.status, 200);
    EXPECT_EQ(q.body, req("GET", "/api/projects/" + str(a, "id")).body) << "same shape as GET /api/projects/:id";
    auto h = req("GET", "/api/active-project", {}, {{"X-Atelier-Project", "beta"}});
    EXPECT_EQ(str(h.json(), "slug"), "beta");
    auto both = req("GET", "/api/active-project?project=" + str(a, "id"), {}, {{"X-Atelier-Project", "beta"}});
    EXPECT_EQ(str(both.json(), "slug"), "alpha") << "the query parameter wins";
    auto unknown = req("GET", "/api/active-project?project=ghost");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(code(unknown), "PROJECT_NOT_FOUND");
    auto unknownHeader = req("GET", "/api/active-project", {}, {{"X-Atelier-Project", "ghost"}});
    EXPECT_EQ(unknownHeader.status, 404);
}

TEST(ProjectsStartDirectory, RepositoryIsRegisteredAndActive) {
    auto repo = makeRepo({{"src/a.txt", "a"}});
    ScopedCwd cwd(repo + "/src");  // started in a subdirectory: the repository root is registered
    FakeHost host;
    host.load(atelier_module_entry_v1());
    auto list = host.request("GET", "/api/projects").jsonArray();
    ASSERT_EQ(list->size(), 1u);
    auto p = list->getObject(0);
    EXPECT_EQ(str(p, "name"), fs::path(repo).filename().string());
    EXPECT_EQ(str(p, "local_path"), repo);
    EXPECT_EQ(p->getArray("repos")->size(), 1u);
    auto active = host.request("GET", "/api/active-project");
    ASSERT_EQ(active.status, 200) << active.body;
    EXPECT_EQ(str(active.json(), "id"), str(p, "id"));
    auto events = host.events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, "project.created");

    // Deleting it leaves no active project.
    EXPECT_EQ(host.request("DELETE", "/api/projects/" + str(p, "id")).status, 204);
    EXPECT_EQ(host.request("GET", "/api/active-project").status, 400);
}

TEST(ProjectsStartDirectory, StartedInsideAWorktreeMeansTheMainRepository) {
    auto repo = makeRepo({{"src/a.txt", "a"}});
    auto wt = repo + "/.atelier/worktrees/fix-1";
    projects::testing::addWorktree(repo, "fix-1", wt);
    ScopedCwd cwd(wt + "/src");
    FakeHost host;
    host.load(atelier_module_entry_v1());
    auto list = host.request("GET", "/api/projects").jsonArray();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(str(list->getObject(0), "local_path"), repo);
    auto active = host.request("GET", "/api/active-project");
    ASSERT_EQ(active.status, 200);
    EXPECT_EQ(str(active.json(), "local_path"), repo);
}

TEST(ProjectsStartDirectory, RegistrationCanBeTurnedOff) {
    auto repo = makeRepo();
    {
        ScopedCwd cwd(repo);
        FakeHost host;
        host.setConfig("projects", R"({"registerStartDirectory":false})");
        host.load(atelier_module_entry_v1());
        EXPECT_EQ(host.request("GET", "/api/projects").jsonArray()->size(), 0u);
        EXPECT_EQ(host.request("GET", "/api/active-project").status, 400);
        // Registering the directory by hand makes it the active project.
        auto created = host.request("POST", "/api/projects", R"({"name":"Manual","local_path":")" + repo + "\"}");
        ASSERT_EQ(created.status, 201);
        EXPECT_EQ(str(host.request("GET", "/api/active-project").json(), "slug"), "manual");
    }
}

TEST(ProjectsStartDirectory, NonRepositoryIsNotRegistered) {
    auto dir = tempDir();
    ScopedCwd cwd(dir);
    FakeHost host;
    host.load(atelier_module_entry_v1());
    EXPECT_EQ(host.request("GET", "/api/projects").jsonArray()->size(), 0u);
    auto r = host.request("GET", "/api/active-project");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(code(r), "NO_ACTIVE_PROJECT");
}

}  // namespace
