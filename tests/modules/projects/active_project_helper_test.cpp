// The cross-module contract: another module resolves the active project through
// sdk/include/atelier/active_project.hpp, which calls GET /api/active-project in process.
#include <gtest/gtest.h>

#include <atelier/sdk.hpp>
#include <atelier/shared/active_project.hpp>
#include <atelier/testing/fake_host.hpp>

#include "git_fixture.hpp"

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

using projects::testing::makeRepo;
using projects::testing::ScopedCwd;
using projects::testing::tempDir;

// A consumer module in the style of OpenKit routes: no project in the path.
class ConsumerModule : public atelier::Module {
public:
    void init() override {
        get("/api/consumer/where", "Echo the active project", [this](atelier::Request& req, atelier::Response& res) {
            auto p = atelier::resolveActiveProject(*this, req);
            auto o = atelier::makeObject();
            o->set("id", p.id);
            o->set("slug", p.slug);
            o->set("name", p.name);
            o->set("localPath", p.localPath);
            o->set("repos", p.raw->getArray("repos")->size());
            res.json(o);
        });
    }
};

const atelier_module_v1* consumerTable() {
    static const atelier_module_v1 table = [] {
        auto t = atelier::initStruct<atelier_module_v1>();
        t.id = "consumer";
        t.version = "0.0.1";
        t.description = "test consumer";
        t.init = &atelier::ModuleGlue::init<ConsumerModule>;
        t.start = &atelier::ModuleGlue::start;
        t.stop = &atelier::ModuleGlue::stop;
        t.destroy = &atelier::ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

std::string str(const atelier::JsonObject& o, const std::string& k) { return o->getValue<std::string>(k); }

TEST(ActiveProjectHelper, ResolvesStartDirectoryQueryAndHeader) {
    auto repo = makeRepo();
    ScopedCwd cwd(repo);
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    host.load(consumerTable());

    auto start = host.request("GET", "/api/consumer/where");
    ASSERT_EQ(start.status, 200) << start.body;
    EXPECT_EQ(str(start.json(), "localPath"), repo);
    EXPECT_EQ(start.json()->getValue<int>("repos"), 1);

    auto other = host.request("POST", "/api/projects", R"({"name":"Other Place"})").json();
    auto byQuery = host.request("GET", "/api/consumer/where?project=other-place");
    ASSERT_EQ(byQuery.status, 200) << byQuery.body;
    EXPECT_EQ(str(byQuery.json(), "id"), str(other, "id"));
    EXPECT_EQ(str(byQuery.json(), "localPath"), "");
    auto byHeader = host.request("GET", "/api/consumer/where", {}, {{"X-Atelier-Project", str(other, "id")}});
    EXPECT_EQ(str(byHeader.json(), "slug"), "other-place");

    auto unknown = host.request("GET", "/api/consumer/where?project=no%20such");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(str(unknown.json(), "code"), "PROJECT_NOT_FOUND");
}

TEST(ActiveProjectHelper, NoActiveProjectIsA400ForTheConsumer) {
    ScopedCwd cwd(tempDir());
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    host.load(consumerTable());
    auto r = host.request("GET", "/api/consumer/where");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(str(r.json(), "code"), "NO_ACTIVE_PROJECT");
    EXPECT_EQ(str(r.json(), "error"), "No active project: pass ?project=<id|slug> or the X-Atelier-Project header");
}

}  // namespace
