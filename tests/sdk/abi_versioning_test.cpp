// Versioning enforced on the module side: the SDK never calls past the end of an older
// host's table (it reports ATELIER_ERR_UNSUPPORTED instead), refuses a host older than the
// minor the module needs, and hands migrations over as a strided array.
#include <gtest/gtest.h>

#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>

const atelier_module_v1* futureModuleTable();

namespace {

class EngineModule : public atelier::Module {
public:
    void init() override {
        migrateSteps(
            {{1, "CREATE TABLE engine_items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
              ATELIER_DB_SQLITE},
             {1, "CREATE TABLE engine_items (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT) USING heap",
              ATELIER_DB_POSTGRESQL},
             {2, "CREATE INDEX engine_items_name ON engine_items (name)", ATELIER_DB_ANY}});
        get("/api/engine", "Which engine", [this](atelier::Request&, atelier::Response& res) {
            res.json(Poco::Dynamic::Var(db().engine() == ATELIER_DB_SQLITE ? "sqlite" : "other"));
        });
        post("/api/engine/items", "Insert", [this](atelier::Request& req, atelier::Response& res) {
            auto id =
                db().one("INSERT INTO engine_items (name) VALUES (?) RETURNING id", {req.query("name")})->integer("id");
            res.json(Poco::Dynamic::Var(id), 201);
        });
    }
};

const atelier_module_v1* engineModuleTable() { return atelier::testing::moduleEntry<EngineModule>("engine", "1.0.0"); }

}  // namespace

TEST(AbiVersioning, FullHostOffersTheEngineAndRunsThisEnginesMigrations) {
    atelier::testing::FakeHost host;
    host.load(engineModuleTable());
    auto r = host.request("GET", "/api/engine");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "\"sqlite\"");
    EXPECT_EQ(host.request("POST", "/api/engine/items?name=a").body, "1");
    EXPECT_EQ(host.request("POST", "/api/engine/items?name=b").body, "2");
    auto dup = host.request("POST", "/api/engine/items?name=a");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(dup.json()->getValue<std::string>("code"), "CONFLICT");
}

TEST(AbiVersioning, SdkReportsUnsupportedInsteadOfCallingPastAnOlderHostsTable) {
    atelier::testing::FakeHost host;
    // A host whose table ends before db_engine; everything past it is garbage.
    host.truncateTable(offsetof(atelier_host_v1, db_engine));
    EXPECT_TRUE(atelier::hostHas(host.api(), &atelier_host_v1::db_query));
    EXPECT_FALSE(atelier::hostHas(host.api(), &atelier_host_v1::db_engine));
    EXPECT_FALSE(atelier::hostHas(host.api(), &atelier_host_v1::ops_record));
    EXPECT_FALSE(ATELIER_HOST_HAS(host.api(), db_engine));
    host.load(engineModuleTable());

    // The route that needs db_engine answers cleanly; the rest of the module works.
    auto r = host.request("GET", "/api/engine");
    EXPECT_EQ(r.status, 501) << r.body;
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "UNSUPPORTED_BY_HOST");
    EXPECT_EQ(r.json()->getValue<bool>("success"), false);
    EXPECT_EQ(host.request("POST", "/api/engine/items?name=a").status, 201);

    atelier_module_ctx ctx{&host, "engine", "", "{}"};
    atelier::Db db(host.api(), &ctx);
    try {
        db.engine();
        ADD_FAILURE() << "db.engine() did not report unsupported";
    } catch (const atelier::DbError& e) {
        EXPECT_EQ(e.status(), ATELIER_ERR_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("db_engine"), std::string::npos) << e.what();
    }
}

TEST(AbiVersioning, SlotInsideTheTableButUnsetIsUnsupportedToo) {
    atelier::testing::FakeHost host;
    const_cast<atelier_host_v1*>(host.api())->db_engine = nullptr;
    EXPECT_FALSE(atelier::hostHas(host.api(), &atelier_host_v1::db_engine));
    host.load(engineModuleTable());
    EXPECT_EQ(host.request("GET", "/api/engine").status, 501);
}

TEST(AbiVersioning, ModuleNeedingANewerMinorRefusesAnOlderHost) {
    const atelier_module_v1* t = futureModuleTable();
    EXPECT_EQ(t->min_abi_minor, static_cast<uint32_t>(ATELIER_ABI_MINOR + 1));
    atelier::testing::FakeHost host;
    try {
        host.load(t);
        ADD_FAILURE() << "a module needing a newer minor loaded";
    } catch (const std::runtime_error& e) {
        std::string expected = "needs ABI 1." + std::to_string(ATELIER_ABI_MINOR + 1) + ", host offers 1." +
                               std::to_string(ATELIER_ABI_MINOR);
        EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    EXPECT_EQ(host.request("GET", "/api/future").status, 404);  // nothing was registered
}

TEST(AbiVersioning, ModulesRecordTheMinorTheyWereBuiltAgainstAndNeedNoMore) {
    const atelier_module_v1* t = engineModuleTable();
    EXPECT_EQ(t->struct_size, sizeof(atelier_module_v1));
    EXPECT_EQ(t->abi_major, ATELIER_ABI_MAJOR);
    EXPECT_EQ(t->abi_minor, ATELIER_ABI_MINOR);
    EXPECT_EQ(t->min_abi_minor, 0u);
}
