// The C++ SDK exercised through the fake host: routes, errors, db, migrations, events,
// hooks, timers and in-process calls.
#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>
#include <gtest/gtest.h>

namespace {

class NotesModule : public atelier::Module {
public:
    void init() override {
        migrate({"CREATE TABLE notes_items (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE)"});
        post("/api/notes", "Create a note", [this](atelier::Request& req, atelier::Response& res) {
            auto body = req.json();
            if (!body->has("title") || !body->get("title").isString())
                throw atelier::badRequest("title is required", "VALIDATION_ERROR", {{"title", "required string"}});
            std::string title = body->getValue<std::string>("title");
            auto vetoed = runHook("notes.before_create", R"({"title":")" + title + "\"}");
            if (vetoed.vetoed) throw atelier::HttpError(422, "VETOED", vetoed.payload);
            auto id = db().one("INSERT INTO notes_items (title) VALUES (?) RETURNING id", {title})->integer("id");
            atelier::Event e;
            e.type = "note.created";
            e.payload = R"({"id":)" + std::to_string(id) + "}";
            publish(e);
            auto o = atelier::makeObject();
            o->set("id", id);
            o->set("title", title);
            res.json(o, 201);
        });
        get("/api/notes/:id", "Get a note", [this](atelier::Request& req, atelier::Response& res) {
            auto row = db().one("SELECT id, title FROM notes_items WHERE id = ?", {req.param("id")});
            if (!row) throw atelier::notFound("Note not found");
            auto o = atelier::makeObject();
            o->set("id", row->integer("id"));
            o->set("title", row->text("title"));
            res.json(o);
        });
        get("/api/notes/count", "Count notes", [this](atelier::Request&, atelier::Response& res) {
            auto row = db().one("SELECT COUNT(*) AS n FROM notes_items");
            res.json(Poco::Dynamic::Var(row->integer("n")));
        });
        get("/api/notes-boom", "Throws", [](atelier::Request&, atelier::Response&) { throw std::runtime_error("boom"); });
        post("/api/notes-txn", "Two inserts, second fails", [this](atelier::Request&, atelier::Response& res) {
            auto body = [](const atelier::Db& tx) {
                tx.exec("INSERT INTO notes_items (title) VALUES ('txn-a')");
                tx.exec("INSERT INTO notes_items (title) VALUES ('txn-a')");  // UNIQUE violation
            };
            db().transaction(body);  // an lvalue callable must work too
            res.noContent();
        });
        hook("notes.before_create", 10, [](std::string_view payload) {
            if (payload.find("forbidden") != std::string_view::npos) return atelier::HookOutcome::veto("forbidden title");
            return atelier::HookOutcome::keep();
        });
        subscribe("note.*", [this](const atelier::Event& e) { seen.push_back(e.type); });
        timerId = timer(10, 10, [this] { ++ticks; });
        get("/api/notes-ticks", "Timer runs so far",
            [this](atelier::Request&, atelier::Response& res) { res.json(Poco::Dynamic::Var(ticks)); });
        post("/api/notes-ticks/stop", "Cancel the timer", [this](atelier::Request&, atelier::Response& res) {
            cancelTimer(timerId);
            res.noContent();
        });
    }
    int64_t timerId = 0;
    std::vector<std::string> seen;
    int ticks = 0;
};

}  // namespace

ATELIER_MODULE(NotesModule)

TEST(Sdk, EntryTableComesFromTheManifest) {
    const atelier_module_v1* t = atelier_module_entry_v1();
    EXPECT_STREQ(t->id, "notes");
    EXPECT_STREQ(t->version, "1.2.3");
    EXPECT_STREQ(t->description, "test module: \"quoted\", a \\ backslash");
    ASSERT_EQ(t->requires_count, 2u);
    EXPECT_STREQ(t->requires_list[0].id, "projects");
    EXPECT_STREQ(t->requires_list[0].min_version, "0.1.0");
    EXPECT_STREQ(t->requires_list[0].max_version, "");
    EXPECT_STREQ(t->requires_list[1].id, "worktrees");
    EXPECT_STREQ(t->requires_list[1].min_version, "0.2.0");
    EXPECT_STREQ(t->requires_list[1].max_version, "1.0.0");
}

TEST(Sdk, RoutesDbEventsHooks) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());

    auto created = host.request("POST", "/api/notes", R"({"title":"first"})");
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.json()->getValue<std::string>("title"), "first");
    auto id = created.json()->getValue<int64_t>("id");

    auto fetched = host.request("GET", "/api/notes/" + std::to_string(id));
    EXPECT_EQ(fetched.status, 200);
    EXPECT_EQ(fetched.json()->getValue<std::string>("title"), "first");

    // static segment outranks the :id parameter
    auto count = host.request("GET", "/api/notes/count");
    EXPECT_EQ(count.body, "1");

    auto events = host.events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, "note.created");
    EXPECT_FALSE(events[0].createdAt.empty());
    EXPECT_EQ(events[0].createdAt.back(), 'Z');
}

TEST(Sdk, ErrorsAreUniform) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    auto bad = host.request("POST", "/api/notes", "{not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "INVALID_JSON");
    EXPECT_FALSE(bad.json()->getValue<bool>("success"));

    auto missing = host.request("POST", "/api/notes", R"({"title":3})");
    EXPECT_EQ(missing.status, 400);
    auto details = missing.json()->getArray("details");
    ASSERT_TRUE(details);
    EXPECT_EQ(details->getObject(0)->getValue<std::string>("field"), "title");

    auto nf = host.request("GET", "/api/notes/999");
    EXPECT_EQ(nf.status, 404);
    EXPECT_EQ(nf.json()->getValue<std::string>("code"), "NOT_FOUND");

    auto boom = host.request("GET", "/api/notes-boom");
    EXPECT_EQ(boom.status, 500);
    EXPECT_EQ(boom.json()->getValue<std::string>("code"), "INTERNAL_ERROR");
    EXPECT_EQ(boom.body.find("boom"), std::string::npos) << "internal detail must not leak";

    auto dup1 = host.request("POST", "/api/notes", R"({"title":"same"})");
    auto dup2 = host.request("POST", "/api/notes", R"({"title":"same"})");
    EXPECT_EQ(dup1.status, 201);
    EXPECT_EQ(dup2.status, 409);

    EXPECT_EQ(host.request("DELETE", "/api/notes/1").status, 405);
    EXPECT_EQ(host.request("GET", "/api/nothing").status, 404);
}

TEST(Sdk, HookVetoAndTransactionRollback) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    auto vetoed = host.request("POST", "/api/notes", R"({"title":"forbidden thing"})");
    EXPECT_EQ(vetoed.status, 422);
    EXPECT_NE(vetoed.body.find("forbidden title"), std::string::npos);

    auto txn = host.request("POST", "/api/notes-txn");
    EXPECT_EQ(txn.status, 409);
    EXPECT_EQ(host.request("GET", "/api/notes/count").body, "0") << "the first insert must be rolled back";
}

TEST(Sdk, TimersRunUntilCancelled) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    EXPECT_EQ(host.request("GET", "/api/notes-ticks").body, "0");
    host.runTimers();
    host.runTimers();
    EXPECT_EQ(host.request("GET", "/api/notes-ticks").body, "2") << "a repeating timer runs every time";
    EXPECT_EQ(host.request("POST", "/api/notes-ticks/stop").status, 204);
    host.runTimers();
    EXPECT_EQ(host.request("GET", "/api/notes-ticks").body, "2") << "a cancelled timer never runs again";
}
