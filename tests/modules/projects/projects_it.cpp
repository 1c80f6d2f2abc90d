// The projects module over the real host: every route over HTTP on real sockets, with
// real git repositories, the start-directory project and persistence across restarts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <test_server.hpp>
#include <thread>

namespace {

namespace fs = std::filesystem;
using atelier::test::HttpResult;
using atelier::test::makeGitRepo;
using atelier::test::makeTempDir;
using atelier::test::TestServer;
using Obj = Poco::JSON::Object::Ptr;

std::string str(const Obj& o, const std::string& k) { return o->getValue<std::string>(k); }
std::string detailField(const HttpResult& r) {
    auto o = r.json();
    if (!o || !o->getArray("details") || o->getArray("details")->size() == 0) return "<no details: " + r.body + ">";
    return str(o->getArray("details")->getObject(0), "field");
}
std::string readText(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
// Every repository a test makes is removed when the program exits.
struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
        std::error_code ec;
        for (auto& d : dirs) fs::remove_all(d, ec);
    }
};
Cleanup& cleanup() {
    static Cleanup c;
    return c;
}
std::string canonical(const std::string& p) {
    cleanup().dirs.push_back(p);
    return fs::canonical(p).string();
}

// One server for the route tests, started in a directory that is not a repository.
class ProjectsIt : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new TestServer(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    TestServer& s() { return *server_; }
    Obj create(const std::string& body) {
        auto r = s().post("/api/projects", body);
        EXPECT_EQ(r.status, 201) << body << " → " << r.body;
        return r.json();
    }
    static TestServer* server_;
};
TestServer* ProjectsIt::server_ = nullptr;

void expectError(const HttpResult& r, int status, const std::string& errCode) {
    EXPECT_EQ(r.status, status) << r.body;
    auto o = r.json();
    ASSERT_TRUE(o) << r.body;
    EXPECT_FALSE(o->getValue<bool>("success")) << r.body;
    EXPECT_EQ(str(o, "code"), errCode) << r.body;
    EXPECT_FALSE(str(o, "error").empty());
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
}

TEST_F(ProjectsIt, AbbadoCreateListGetDelete) {
    auto r = s().post("/api/projects", R"({"name":"My Project"})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto p = r.json();
    EXPECT_EQ(str(p, "name"), "My Project");
    EXPECT_EQ(p->getArray("repos")->size(), 0u);
    EXPECT_EQ(str(p, "created_at").back(), 'Z');
    EXPECT_EQ(str(p, "owner_id"), "user-1");
    std::string id = str(p, "id");

    auto list = s().get("/api/projects");
    ASSERT_EQ(list.status, 200);
    auto arr = list.jsonArray();
    ASSERT_TRUE(arr) << "the list is a bare array";
    bool found = false;
    for (size_t i = 0; i < arr->size(); ++i) found |= str(arr->getObject(static_cast<unsigned>(i)), "id") == id;
    EXPECT_TRUE(found);

    auto got = s().get("/api/projects/" + id);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, r.body);
    EXPECT_EQ(s().get("/api/projects/" + str(p, "slug")).body, r.body);

    auto del = s().del("/api/projects/" + id);
    EXPECT_EQ(del.status, 204);
    EXPECT_TRUE(del.body.empty());
    expectError(s().get("/api/projects/" + id), 404, "PROJECT_NOT_FOUND");
    expectError(s().del("/api/projects/" + id), 404, "PROJECT_NOT_FOUND");
}

TEST_F(ProjectsIt, KombuseFieldsFiltersAndUpdate) {
    auto p = create(R"({"name":"Kombuse Proj","slug":"kombuse-proj","description":"d","owner_id":"owner-k",
                        "repo_source":"github","repo_owner":"acme","repo_name":"kp"})");
    create(R"({"name":"Other Kombuse","owner_id":"owner-k","repo_source":"gitlab"})");
    auto byOwner = s().get("/api/projects?owner_id=owner-k").jsonArray();
    ASSERT_EQ(byOwner->size(), 2u);
    auto bySource = s().get("/api/projects?owner_id=owner-k&repo_source=github").jsonArray();
    ASSERT_EQ(bySource->size(), 1u);
    EXPECT_EQ(str(bySource->getObject(0), "slug"), "kombuse-proj");
    auto bySearch = s().get("/api/projects?search=other%20kOMBUSE").jsonArray();
    ASSERT_EQ(bySearch->size(), 1u);
    EXPECT_EQ(str(bySearch->getObject(0), "name"), "Other Kombuse");
    auto paged = s().get("/api/projects?owner_id=owner-k&limit=1&offset=1").jsonArray();
    ASSERT_EQ(paged->size(), 1u);
    EXPECT_EQ(str(paged->getObject(0), "name"), "Other Kombuse");
    expectError(s().get("/api/projects?limit=abc"), 400, "VALIDATION_ERROR");
    expectError(s().get("/api/projects?repo_source=cvs"), 400, "VALIDATION_ERROR");

    auto u =
        s().patch("/api/projects/kombuse-proj", R"({"description":null,"repo_name":"kp2","organizationId":"org-1"})");
    ASSERT_EQ(u.status, 200) << u.body;
    EXPECT_TRUE(u.json()->isNull("description"));
    EXPECT_EQ(str(u.json(), "repo_name"), "kp2");
    EXPECT_EQ(str(u.json(), "organizationId"), "org-1");
    EXPECT_EQ(str(u.json(), "id"), str(p, "id"));
    auto byOrg = s().get("/api/projects?organizationId=org-1").jsonArray();
    ASSERT_EQ(byOrg->size(), 1u);

    expectError(s().patch("/api/projects/kombuse-proj", R"({"slug":"other-kombuse"})"), 409, "DUPLICATE_SLUG");
    auto badType = s().patch("/api/projects/kombuse-proj", R"({"name":5})");
    expectError(badType, 400, "VALIDATION_ERROR");
    EXPECT_EQ(detailField(badType), "name");
    expectError(s().patch("/api/projects/kombuse-proj", "{oops"), 400, "INVALID_JSON");
    expectError(s().patch("/api/projects/ghost", R"({"name":"x"})"), 404, "PROJECT_NOT_FOUND");
    EXPECT_EQ(str(s().get("/api/projects/kombuse-proj").json(), "repo_name"), "kp2");
}

TEST_F(ProjectsIt, CreateRejectsBadInput) {
    auto before = s().get("/api/projects?limit=100").jsonArray()->size();
    expectError(s().post("/api/projects", "{"), 400, "INVALID_JSON");
    expectError(s().post("/api/projects", "\"name\""), 400, "INVALID_JSON");
    auto missing = s().post("/api/projects", "{}");
    expectError(missing, 400, "VALIDATION_ERROR");
    EXPECT_EQ(detailField(missing), "name");
    auto wrongType = s().post("/api/projects", R"({"name":["x"]})");
    EXPECT_EQ(detailField(wrongType), "name");
    auto badSlug = s().post("/api/projects", R"({"name":"x","slug":"Not Kebab"})");
    expectError(badSlug, 400, "VALIDATION_ERROR");
    EXPECT_EQ(detailField(badSlug), "slug");
    auto badSource = s().post("/api/projects", R"({"name":"x","repo_source":"svn"})");
    EXPECT_EQ(detailField(badSource), "repo_source");
    auto badId = s().post("/api/projects", R"({"name":"x","id":"123"})");
    EXPECT_EQ(detailField(badId), "id");
    expectError(s().post("/api/projects", R"({"name":"x","local_path":"relative"})"), 400, "INVALID_PATH");
    expectError(s().post("/api/projects", R"({"name":"x","local_path":"/tmp/../../etc"})"), 400, "INVALID_PATH");
    create(R"({"name":"Dup","slug":"dup-slug"})");
    auto dup = s().post("/api/projects", R"({"name":"Dup 2","slug":"dup-slug"})");
    expectError(dup, 409, "DUPLICATE_SLUG");
    EXPECT_EQ(s().get("/api/projects?limit=100").jsonArray()->size(), before + 1) << "only the valid create was stored";
}

TEST_F(ProjectsIt, ConcurrentCreatesOfOneSlug) {
    std::atomic<int> created{0}, conflicts{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            auto r = s().post("/api/projects", R"({"name":"Racer )" + std::to_string(i) + R"(","slug":"racer"})");
            if (r.status == 201)
                ++created;
            else if (r.status == 409)
                ++conflicts;
            else
                ++other;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(created.load(), 1);
    EXPECT_EQ(conflicts.load(), 7);
    EXPECT_EQ(other.load(), 0);
    // Derived slugs never collide either.
    std::vector<std::thread> more;
    std::atomic<int> ok{0};
    for (int i = 0; i < 6; ++i)
        more.emplace_back([&] {
            if (s().post("/api/projects", R"({"name":"Same Derived"})").status == 201) ++ok;
        });
    for (auto& t : more) t.join();
    EXPECT_EQ(ok.load(), 6);
    auto all = s().get("/api/projects?search=Same%20Derived").jsonArray();
    std::set<std::string> slugs;
    for (size_t i = 0; i < all->size(); ++i) slugs.insert(str(all->getObject(static_cast<unsigned>(i)), "slug"));
    EXPECT_EQ(slugs.size(), 6u);
    EXPECT_TRUE(slugs.count("same-derived"));
}

TEST_F(ProjectsIt, ConcurrentPatchesOfDifferentFieldsBothLand) {
    auto p = create(R"({"name":"Patched Twice"})");
    std::string id = str(p, "id");
    for (int round = 0; round < 5; ++round) {
        std::string d = "desc-" + std::to_string(round), o = "org-" + std::to_string(round);
        std::thread a(
            [&] { EXPECT_EQ(s().patch("/api/projects/" + id, R"({"description":")" + d + "\"}").status, 200); });
        std::thread b(
            [&] { EXPECT_EQ(s().patch("/api/projects/" + id, R"({"organizationId":")" + o + "\"}").status, 200); });
        a.join();
        b.join();
        auto now = s().get("/api/projects/" + id).json();
        EXPECT_EQ(str(now, "description"), d);
        EXPECT_EQ(str(now, "organizationId"), o);
    }
}

TEST_F(ProjectsIt, ReposOfAProject) {
    auto repo = canonical(makeGitRepo({{"README.md", "x"}}));
    auto p = create(R"({"name":"With Repos","local_path":")" + repo + "\"}");
    auto repos = p->getArray("repos");
    ASSERT_EQ(repos->size(), 1u);
    EXPECT_EQ(str(repos->getObject(0), "path"), repo);
    EXPECT_EQ(str(repos->getObject(0), "default_branch"), "main");
    std::string id = str(p, "id");

    auto other = canonical(makeGitRepo());
    auto added = s().post("/api/projects/" + id + "/repos", R"({"name":"backend","repo_path":")" + other + "\"}");
    ASSERT_EQ(added.status, 201) << added.body;
    EXPECT_EQ(str(added.json(), "name"), "backend");
    EXPECT_EQ(str(added.json(), "repo_path"), other);
    auto now = s().get("/api/projects/" + id).json()->getArray("repos");
    ASSERT_EQ(now->size(), 2u);
    EXPECT_EQ(str(now->getObject(0), "path"), repo) << "the local_path repository stays first";

    auto plain = makeTempDir("projects-it-plain-");
    expectError(s().post("/api/projects/" + id + "/repos", R"({"repo_path":")" + plain + "\"}"), 400,
                "NOT_A_GIT_REPOSITORY");
    expectError(s().post("/api/projects/" + id + "/repos", R"({"repo_path":"/no/such/dir"})"), 400, "PATH_NOT_FOUND");
    expectError(s().post("/api/projects/" + id + "/repos", R"({"repo_path":")" + other + "/../x\"}"), 400,
                "INVALID_PATH");
    expectError(s().post("/api/projects/" + id + "/repos", R"({"repo_path":42})"), 400, "VALIDATION_ERROR");
    expectError(s().post("/api/projects/" + id + "/repos", R"({"repo_path":")" + other + "\"}"), 409, "REPO_EXISTS");
    expectError(s().post("/api/projects/ghost/repos", R"({"repo_path":")" + other + "\"}"), 404, "PROJECT_NOT_FOUND");

    auto del = s().del("/api/projects/" + id + "/repos/" + str(added.json(), "id"));
    EXPECT_EQ(del.status, 204);
    expectError(s().del("/api/projects/" + id + "/repos/" + str(added.json(), "id")), 404, "REPO_NOT_FOUND");
    expectError(s().del("/api/projects/" + id + "/repos/" + str(now->getObject(0), "id")), 409, "PRIMARY_REPO");
    EXPECT_EQ(s().get("/api/projects/" + id).json()->getArray("repos")->size(), 1u);
    fs::remove_all(plain);
}

TEST_F(ProjectsIt, BoardsExtras) {
    auto repo =
        canonical(makeGitRepo({{"src/main.rs", "fn main(){}"}, {"Cargo.toml", "[package]"}, {"README.md", "r"}}));
    auto p = create(R"({"name":"Board Proj","path":")" + repo + R"(","organizationId":"org-b"})");
    EXPECT_EQ(str(p, "path"), repo);
    EXPECT_EQ(str(p, "local_path"), repo);
    std::string id = str(p, "id");

    auto files = s().get("/api/projects/" + id + "/files");
    ASSERT_EQ(files.status, 200) << files.body;
    EXPECT_EQ(files.body, R"({"data":["Cargo.toml","README.md","src/main.rs"]})");
    create(R"({"name":"Pathless Board"})");
    expectError(s().get("/api/projects/pathless-board/files"), 400, "NO_LOCAL_PATH");
    expectError(s().get("/api/projects/ghost/files"), 404, "PROJECT_NOT_FOUND");

    auto exp = s().get("/api/projects/" + id + "/export");
    ASSERT_EQ(exp.status, 200);
    EXPECT_EQ(exp.header("content-disposition"), "attachment; filename=\"board-proj.json\"");
    EXPECT_EQ(str(exp.json()->getObject("project"), "id"), id);
    expectError(s().get("/api/projects/ghost/export"), 404, "PROJECT_NOT_FOUND");

    auto opened = s().patch("/api/projects/" + id + "/last-opened", "");
    EXPECT_EQ(opened.status, 204);
    EXPECT_EQ(str(s().get("/api/projects/" + id).json(), "last_opened_at").back(), 'Z');
    expectError(s().patch("/api/projects/ghost/last-opened", ""), 404, "PROJECT_NOT_FOUND");

    auto reorder = s().patch("/api/projects/reorder", R"({"ids":[")" + id + R"("]})");
    EXPECT_EQ(reorder.status, 204) << reorder.body;
    auto first = s().get("/api/projects?limit=1").jsonArray();
    EXPECT_EQ(str(first->getObject(0), "id"), id);
    expectError(s().patch("/api/projects/reorder", R"({"ids":"x"})"), 400, "VALIDATION_ERROR");
    expectError(s().patch("/api/projects/reorder", R"({"ids":["ghost"]})"), 404, "PROJECT_NOT_FOUND");
    expectError(s().patch("/api/projects/reorder", "{bad"), 400, "INVALID_JSON");
}

// The boards product's clients get its {"data": …} envelope on its flavor; Kombuse's get
// their validation issues; the default API stays bare.
TEST_F(ProjectsIt, BoardsFlavorEnvelopeAndKombuseErrors) {
    const std::map<std::string, std::string> kanban{{"X-Atelier-Flavor", "kanban"}};
    auto made = s().request("POST", "/api/projects", R"({"name":"Kanban Proj","path":"/tmp/kanban-proj"})", kanban);
    ASSERT_EQ(made.status, 201) << made.body;
    auto data = made.json()->getObject("data");
    ASSERT_TRUE(data) << made.body;
    EXPECT_EQ(str(data, "name"), "Kanban Proj");
    EXPECT_EQ(str(data, "path"), "/tmp/kanban-proj");
    std::string id = str(data, "id");

    auto one = s().request("GET", "/api/projects/" + id, "", kanban);
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(str(one.json()->getObject("data"), "id"), id);
    auto list = s().request("GET", "/api/projects?limit=100", "", kanban);
    ASSERT_EQ(list.status, 200);
    auto items = list.json()->getArray("data");
    ASSERT_TRUE(items) << list.body;
    bool found = false;
    for (size_t i = 0; i < items->size(); ++i) found |= str(items->getObject(static_cast<unsigned>(i)), "id") == id;
    EXPECT_TRUE(found);
    auto renamed = s().request("PATCH", "/api/projects/" + id, R"({"name":"Renamed"})", kanban);
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(str(renamed.json()->getObject("data"), "name"), "Renamed");
    // The same resource, bare, on the default flavor.
    EXPECT_EQ(str(s().get("/api/projects/" + id).json(), "name"), "Renamed");
    EXPECT_TRUE(s().get("/api/projects?limit=100").jsonArray());
    // Errors on the boards flavor keep the uniform shape (it documents none of its own).
    expectError(s().request("GET", "/api/projects/ghost", "", kanban), 404, "PROJECT_NOT_FOUND");

    // Kombuse: {"error": ZodIssue[]} for validation, {"error": string} otherwise.
    const std::map<std::string, std::string> kombuse{{"X-Atelier-Flavor", "kombuse"}};
    auto invalid = s().request("POST", "/api/projects", "{}", kombuse);
    EXPECT_EQ(invalid.status, 400);
    ASSERT_TRUE(invalid.json()) << invalid.body;
    auto issues = invalid.json()->getArray("error");
    ASSERT_TRUE(issues) << invalid.body;
    EXPECT_EQ(issues->getObject(0)->getArray("path")->getElement<std::string>(0), "name");
    auto ghost = s().request("GET", "/api/projects/ghost", "", kombuse);
    EXPECT_EQ(ghost.status, 404);
    EXPECT_EQ(ghost.json()->size(), 1u) << ghost.body;
    EXPECT_FALSE(str(ghost.json(), "error").empty());
    // Abbado: the message as text.
    auto abbado = s().request("GET", "/api/projects/ghost", "", {{"X-Atelier-Flavor", "abbado"}});
    EXPECT_EQ(abbado.status, 404);
    EXPECT_EQ(abbado.body.find('{'), std::string::npos) << abbado.body;
    EXPECT_NE(abbado.header("content-type").find("text/plain"), std::string::npos);
}

TEST_F(ProjectsIt, InitWritesSetupFiles) {
    auto repo = canonical(makeGitRepo());
    create(R"({"name":"Init Me","local_path":")" + repo + "\"}");
    auto r = s().post("/api/projects/init-me/init", "{}");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()->getValue<bool>("success"));
    auto mcp = Poco::JSON::Parser().parse(readText(fs::path(repo) / ".mcp.json")).extract<Obj>();
    EXPECT_EQ(str(mcp->getObject("mcpServers")->getObject("atelier"), "url"),
              "http://127.0.0.1:" + std::to_string(s().port()) + "/mcp");
    EXPECT_TRUE(fs::exists(fs::path(repo) / "AGENTS.md"));
    EXPECT_TRUE(fs::is_directory(fs::path(repo) / ".atelier"));
    EXPECT_NE(readText(fs::path(repo) / ".gitignore").find(".atelier/worktrees/"), std::string::npos);

    auto skipRepo = canonical(makeGitRepo());
    create(R"({"name":"Init Skip","local_path":")" + skipRepo + "\"}");
    auto skipped = s().post("/api/projects/init-skip/init",
                            R"({"skipMcpJson":true,"skipAgentsMd":true,"skipKombuseDir":true,"skipGitignore":true})");
    ASSERT_EQ(skipped.status, 200);
    for (auto f : {".mcp.json", "AGENTS.md", ".atelier", ".gitignore"})
        EXPECT_FALSE(fs::exists(fs::path(skipRepo) / f)) << f;

    create(R"({"name":"Init No Path"})");
    expectError(s().post("/api/projects/init-no-path/init", "{}"), 400, "NO_LOCAL_PATH");
    expectError(s().post("/api/projects/ghost/init", "{}"), 404, "PROJECT_NOT_FOUND");
    expectError(s().post("/api/projects/init-me/init", R"({"skipGitignore":1})"), 400, "VALIDATION_ERROR");
}

TEST_F(ProjectsIt, ActiveProjectWithoutStartRepository) {
    auto none = s().get("/api/active-project");
    EXPECT_EQ(none.status, 400);
    EXPECT_EQ(
        none.body,
        R"({"success":false,"error":"No active project: pass ?project=<id|slug> or the X-Atelier-Project header","code":"NO_ACTIVE_PROJECT"})");
    auto p = create(R"({"name":"Chosen One"})");
    auto q = s().get("/api/active-project?project=chosen-one");
    ASSERT_EQ(q.status, 200);
    EXPECT_EQ(q.body, s().get("/api/projects/" + str(p, "id")).body);
    auto h = s().request("GET", "/api/active-project", "", {{"X-Atelier-Project", str(p, "id")}});
    ASSERT_EQ(h.status, 200);
    EXPECT_EQ(str(h.json(), "slug"), "chosen-one");
    expectError(s().get("/api/active-project?project=ghost"), 404, "PROJECT_NOT_FOUND");
    expectError(s().request("GET", "/api/active-project", "", {{"X-Atelier-Project", "ghost"}}), 404,
                "PROJECT_NOT_FOUND");
}

TEST_F(ProjectsIt, LifecycleEventsOnTheBus) {
    auto p = create(R"({"name":"Evented"})");
    std::string id = str(p, "id");
    s().patch("/api/projects/" + id, R"({"description":"now"})");
    s().del("/api/projects/" + id);
    auto events = s().get("/api/events?project_id=" + id + "&limit=100");
    ASSERT_EQ(events.status, 200) << events.body;
    auto arr = events.jsonArray();
    ASSERT_TRUE(arr) << events.body;
    std::vector<std::string> types;
    for (size_t i = 0; i < arr->size(); ++i)
        types.push_back(str(arr->getObject(static_cast<unsigned>(i)), "event_type"));
    std::sort(types.begin(), types.end());
    EXPECT_EQ(types, (std::vector<std::string>{"project.created", "project.deleted", "project.updated"}))
        << events.body;
}

// A server started inside a repository registers it, once, across restarts.
TEST(ProjectsStartDir, RegisteredOnceAndActiveByDefault) {
    auto repo = canonical(makeGitRepo({{"pkg/a.txt", "a"}}));
    auto dataDir = makeTempDir("projects-it-data-");
    std::string id;
    {
        TestServer::Options o;
        o.cwd = repo + "/pkg";
        o.dataDir = dataDir;
        TestServer s(o);
        auto active = s.get("/api/active-project");
        ASSERT_EQ(active.status, 200) << active.body << s.logText();
        auto p = active.json();
        id = str(p, "id");
        EXPECT_EQ(str(p, "local_path"), repo);
        EXPECT_EQ(str(p, "name"), fs::path(repo).filename().string());
        ASSERT_EQ(p->getArray("repos")->size(), 1u);
        EXPECT_EQ(str(p->getArray("repos")->getObject(0), "default_branch"), "main");
        auto files = s.get("/api/projects/" + id + "/files");
        EXPECT_EQ(files.body, R"({"data":["pkg/a.txt"]})");
        // ?project= still wins over the start directory.
        s.post("/api/projects", R"({"name":"Elsewhere"})");
        EXPECT_EQ(str(s.get("/api/active-project?project=elsewhere").json(), "name"), "Elsewhere");
    }
    {
        TestServer::Options o;
        o.cwd = repo;
        o.dataDir = dataDir;
        TestServer s(o);
        auto list = s.get("/api/projects").jsonArray();
        ASSERT_TRUE(list);
        EXPECT_EQ(list->size(), 2u) << "restart does not register the directory twice";
        EXPECT_EQ(str(s.get("/api/active-project").json(), "id"), id);
    }
    fs::remove_all(dataDir);
    fs::remove_all(repo);
}

}  // namespace
