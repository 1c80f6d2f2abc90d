// The loader refuses broken modules with a clear reason, refuses their dependents, and keeps
// serving the good ones.
#include <atelier/abi.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "test_server.hpp"
#include "wait.hpp"

using atelier::test::TestServer;

namespace {

Poco::JSON::Object::Ptr moduleById(const atelier::test::HttpResult& r, const std::string& id) {
    auto list = r.json()->getArray("data");
    for (size_t i = 0; i < list->size(); ++i) {
        auto m = list->getObject(static_cast<unsigned>(i));
        if (m->getValue<std::string>("id") == id) return m;
    }
    return nullptr;
}

std::string stateOf(const atelier::test::HttpResult& r, const std::string& id) {
    auto m = moduleById(r, id);
    return m ? m->getValue<std::string>("state") : "absent";
}
std::string errorOf(const atelier::test::HttpResult& r, const std::string& id) {
    auto m = moduleById(r, id);
    return m && !m->isNull("error") ? m->getValue<std::string>("error") : "";
}

TestServer::Options fixtureOptions(std::vector<std::string> extra = {}) {
    TestServer::Options o;
    o.extraArgs = {"--modules-dir", FIXTURE_MODULES_DIR};
    for (auto& e : extra) o.extraArgs.push_back(e);
    return o;
}

}  // namespace

TEST(Loader, RefusesBrokenModulesAndKeepsServing) {
    TestServer server(fixtureOptions());
    auto mods = server.get("/api/modules");
    ASSERT_EQ(mods.status, 200) << mods.body;

    EXPECT_EQ(stateOf(mods, "host"), "running");
    EXPECT_EQ(stateOf(mods, "fx-good"), "running");
    EXPECT_EQ(stateOf(mods, "fx-needs-good"), "running");

    EXPECT_EQ(stateOf(mods, "fx-throws"), "refused");
    EXPECT_NE(errorOf(mods, "fx-throws").find("deliberate failure in init"), std::string::npos) << errorOf(mods, "fx-throws");

    EXPECT_EQ(stateOf(mods, "fx-wrong-abi"), "refused");
    EXPECT_NE(errorOf(mods, "fx-wrong-abi").find("ABI major 99"), std::string::npos) << errorOf(mods, "fx-wrong-abi");

    EXPECT_EQ(stateOf(mods, "fx-future-abi"), "refused");
    EXPECT_NE(errorOf(mods, "fx-future-abi").find("ABI major 2"), std::string::npos);

    EXPECT_EQ(stateOf(mods, "fx-no-entry"), "refused");
    EXPECT_NE(errorOf(mods, "fx-no-entry").find("missing entry symbol"), std::string::npos);

    EXPECT_EQ(stateOf(mods, "fx-init-error"), "refused");
    EXPECT_NE(errorOf(mods, "fx-init-error").find("database unreachable"), std::string::npos);

    EXPECT_EQ(stateOf(mods, "fx-bad-table"), "refused");
    EXPECT_NE(errorOf(mods, "fx-bad-table").find("other_things"), std::string::npos) << errorOf(mods, "fx-bad-table");

    EXPECT_EQ(stateOf(mods, "fx-missing-dep"), "refused");
    EXPECT_NE(errorOf(mods, "fx-missing-dep").find("fx-not-installed"), std::string::npos);

    EXPECT_EQ(stateOf(mods, "fx-needs-failed"), "refused");
    EXPECT_NE(errorOf(mods, "fx-needs-failed").find("fx-throws"), std::string::npos);

    EXPECT_EQ(stateOf(mods, "fx-cycle-a"), "refused");
    EXPECT_EQ(stateOf(mods, "fx-cycle-b"), "refused");
    EXPECT_NE(errorOf(mods, "fx-cycle-a").find("cycle"), std::string::npos);

    EXPECT_EQ(stateOf(mods, "fx-old-dep"), "refused");
    EXPECT_NE(errorOf(mods, "fx-old-dep").find("found 1.0.0"), std::string::npos) << errorOf(mods, "fx-old-dep");

    // A module that needs a newer minor is refused; one merely built against it loads.
    EXPECT_EQ(stateOf(mods, "fx-newer-minor"), "refused");
    const std::string needs =
        "needs ABI 1." + std::to_string(ATELIER_ABI_MINOR + 1) + ", host offers 1." + std::to_string(ATELIER_ABI_MINOR);
    EXPECT_NE(errorOf(mods, "fx-newer-minor").find(needs), std::string::npos) << errorOf(mods, "fx-newer-minor");
    EXPECT_EQ(stateOf(mods, "fx-built-newer"), "running") << errorOf(mods, "fx-built-newer");

    EXPECT_EQ(stateOf(mods, "fx-liar"), "refused");
    EXPECT_NE(errorOf(mods, "fx-liar").find("does not match"), std::string::npos);

    // The good module's route works end to end against real storage.
    auto hello = server.get("/api/fx-good/hello?name=ada");
    ASSERT_EQ(hello.status, 200) << hello.body;
    EXPECT_EQ(hello.json()->getValue<std::string>("hello"), "ada");
    EXPECT_EQ(hello.json()->getValue<int>("count"), 1);
    server.get("/api/fx-good/hello?name=grace");
    auto found = server.get("/api/fx-good/search?q=ac");
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_TRUE(found.jsonArray()) << found.body;
    EXPECT_EQ(found.jsonArray()->size(), 1u);
    EXPECT_EQ(found.jsonArray()->getElement<std::string>(0), "grace");
    // A refused module contributed no routes, even those registered before it failed.
    EXPECT_EQ(server.get("/api/fx-throws/hello").status, 404);
    // Health counts running modules only.
    auto health = server.get("/api/health");
    int running = 0;
    auto all = mods.json()->getArray("data");
    for (size_t i = 0; i < all->size(); ++i)
        running += all->getObject(static_cast<unsigned>(i))->getValue<std::string>("state") == "running";
    EXPECT_EQ(health.json()->getValue<int>("modules"), running);
    EXPECT_GE(running, 3);
    // One clear log line per refused module.
    server.stop();
    auto log = server.logText();
    EXPECT_NE(log.find("module 'fx-throws' refused: init failed: deliberate failure in init"), std::string::npos) << log;
    EXPECT_NE(log.find("module 'fx-newer-minor' refused: " + needs), std::string::npos) << log;
}

TEST(Loader, DisabledModuleHasNoRoutesAndItsDependentsAreRefused) {
    TestServer server(fixtureOptions({"--disable-module", "fx-good"}));
    auto mods = server.get("/api/modules");
    EXPECT_EQ(stateOf(mods, "fx-good"), "disabled");
    EXPECT_EQ(stateOf(mods, "fx-needs-good"), "refused");
    auto r = server.get("/api/fx-good/hello");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "NOT_FOUND");
    EXPECT_EQ(server.get("/api/health").status, 200);
}

TEST(Loader, MigrationsApplyOnceAcrossRestarts) {
    std::string dataDir = atelier::test::makeTempDir();
    {
        auto o = fixtureOptions();
        o.dataDir = dataDir;
        TestServer server(o);
        EXPECT_EQ(server.get("/api/fx-good/hello").json()->getValue<int>("count"), 1);
    }
    {
        auto o = fixtureOptions();
        o.dataDir = dataDir;
        TestServer server(o);
        // The table survived and the migration did not run again.
        EXPECT_EQ(server.get("/api/fx-good/hello").json()->getValue<int>("count"), 2);
    }
    std::filesystem::remove_all(dataDir);
}

TEST(Loader, ModulesCommandExplainsWithoutLoading) {
    std::string out;
    int rc = atelier::test::run({ATELIER_BINARY, "modules", "--modules-dir", FIXTURE_MODULES_DIR, "--data-dir",
                                 atelier::test::makeTempDir()},
                                {}, &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("fx-good"), std::string::npos);
    EXPECT_NE(out.find("would load"), std::string::npos) << out;
    EXPECT_NE(out.find("fx-missing-dep"), std::string::npos);
    EXPECT_NE(out.find("fx-not-installed"), std::string::npos) << out;
}

TEST(Loader, ShutdownLetsInFlightRequestsFinish) {
    TestServer server(fixtureOptions());
    atelier::test::HttpResult slow;
    std::string started = atelier::test::makeTempDir() + "/started";
    // `started` is a temp path: nothing in it needs escaping in a query.
    std::thread client([&] { slow = server.get("/api/fx-good/slow?ms=700&started=" + started); });
    EXPECT_TRUE(atelier::test::waitFor([&] { return std::filesystem::exists(started); }))
        << "the request is being handled";
    int rc = server.stop();
    client.join();
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(slow.status, 200);
    EXPECT_EQ(slow.body, "\"done\"");
}
