// The plain C bookmarks plugin in the fake host: its routes, the uniform error body, the
// per-engine migration, the event subscription, and its refusal of a host table too short
// for what it calls.
#include <gtest/gtest.h>

#include <atelier/testing/fake_host.hpp>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

void expectError(const atelier::testing::FakeResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto o = r.json();
    ASSERT_TRUE(o) << r.body;
    EXPECT_EQ(o->getValue<bool>("success"), false) << r.body;
    EXPECT_EQ(o->getValue<std::string>("code"), code) << r.body;
    EXPECT_FALSE(o->getValue<std::string>("error").empty()) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
}

}  // namespace

TEST(Bookmarks, CreateListGetDelete) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    auto a = host.request("POST", "/api/bookmarks",
                          R"({"url":"https://example.com/a","title":"A \"quoted\"\n","project_id":"p1"})");
    ASSERT_EQ(a.status, 201) << a.body;
    auto ao = a.json();
    ASSERT_TRUE(ao) << a.body;
    EXPECT_EQ(ao->getValue<int64_t>("id"), 1);
    EXPECT_EQ(ao->getValue<std::string>("title"), "A \"quoted\"\n");
    EXPECT_EQ(ao->getValue<std::string>("project_id"), "p1");
    EXPECT_EQ(ao->getValue<std::string>("created_at").back(), 'Z');
    // No title: the URL; no project: null. Unknown members are ignored, escapes decoded.
    auto b = host.request("POST", "/api/bookmarks",
                          R"({"url":"https://example.com/\u00e9\ud83d\ude00","extra":{"x":[1,2.5e3,true,null]}})");
    ASSERT_EQ(b.status, 201) << b.body;
    EXPECT_EQ(b.json()->getValue<std::string>("title"), "https://example.com/\xC3\xA9\xF0\x9F\x98\x80");
    EXPECT_TRUE(b.json()->isNull("project_id"));

    auto all = host.request("GET", "/api/bookmarks");
    ASSERT_EQ(all.status, 200) << all.body;
    ASSERT_TRUE(all.jsonArray()) << all.body;
    EXPECT_EQ(all.jsonArray()->size(), 2u);
    auto p1 = host.request("GET", "/api/bookmarks?project_id=p1").jsonArray();
    ASSERT_TRUE(p1);
    ASSERT_EQ(p1->size(), 1u);
    EXPECT_EQ(p1->getObject(0)->getValue<std::string>("url"), "https://example.com/a");
    EXPECT_EQ(host.request("GET", "/api/bookmarks?limit=1").jsonArray()->size(), 1u);

    EXPECT_EQ(host.request("GET", "/api/bookmarks/1").json()->getValue<std::string>("url"), "https://example.com/a");
    EXPECT_EQ(host.request("DELETE", "/api/bookmarks/1").status, 204);
    expectError(host.request("GET", "/api/bookmarks/1"), 404, "BOOKMARK_NOT_FOUND");
    expectError(host.request("DELETE", "/api/bookmarks/1"), 404, "BOOKMARK_NOT_FOUND");
    expectError(host.request("GET", "/api/bookmarks/abc"), 404, "BOOKMARK_NOT_FOUND");
}

TEST(Bookmarks, BadInputGetsTheUniformErrorBody) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    for (const char* body :
         {"", "{", "{\"url\":}", "{\"url\":\"x\"} trailing", "{\"url\":\"\\x\"}", "{\"url\":\"\\ud800\"}", "{\"a\":01}",
          "{\"url\":\"https://a\xff\"}", "{\"url\":\"https://\xc0\xaf\"}", "{\"a\":[1,]}", "{\"url\":\"a\x01\"}"})
        expectError(host.request("POST", "/api/bookmarks", body), 400, "INVALID_JSON");
    expectError(host.request("POST", "/api/bookmarks", "[1,2]"), 400, "INVALID_JSON");
    // Nesting is bounded: a hostile body is refused, not a stack overflow.
    expectError(
        host.request("POST", "/api/bookmarks", "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}"),
        400, "INVALID_JSON");

    auto r = host.request("POST", "/api/bookmarks", R"({"url":"ftp://x","title":7,"project_id":[]})");
    expectError(r, 400, "VALIDATION_ERROR");
    auto details = r.json()->getArray("details");
    ASSERT_TRUE(details) << r.body;
    ASSERT_EQ(details->size(), 3u) << r.body;
    EXPECT_EQ(details->getObject(0)->getValue<std::string>("field"), "url");
    EXPECT_EQ(details->getObject(1)->getValue<std::string>("field"), "title");
    EXPECT_EQ(details->getObject(2)->getValue<std::string>("field"), "project_id");
    expectError(host.request("POST", "/api/bookmarks", R"({"title":"no url"})"), 400, "VALIDATION_ERROR");
    expectError(host.request("POST", "/api/bookmarks", R"({"url":"https://)" + std::string(3000, 'a') + "\"}"), 400,
                "VALIDATION_ERROR");
    expectError(host.request("GET", "/api/bookmarks?limit=0"), 400, "VALIDATION_ERROR");
    expectError(host.request("GET", "/api/bookmarks?limit=x"), 400, "VALIDATION_ERROR");
    EXPECT_EQ(host.request("GET", "/api/bookmarks").body, "[]");  // nothing half-written

    // The same URL twice in one project: the engine-neutral conflict status becomes a 409.
    ASSERT_EQ(host.request("POST", "/api/bookmarks", R"({"url":"https://x.org","project_id":"p"})").status, 201);
    expectError(host.request("POST", "/api/bookmarks", R"({"url":"https://x.org","project_id":"p"})"), 409,
                "BOOKMARK_EXISTS");
    EXPECT_EQ(host.request("POST", "/api/bookmarks", R"({"url":"https://x.org","project_id":"q"})").status, 201);
}

TEST(Bookmarks, DeletedProjectTakesItsBookmarks) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    ASSERT_EQ(host.request("POST", "/api/bookmarks", R"({"url":"https://a.org","project_id":"gone"})").status, 201);
    ASSERT_EQ(host.request("POST", "/api/bookmarks", R"({"url":"https://b.org","project_id":"kept"})").status, 201);
    atelier::Event e;
    e.type = "project.deleted";
    e.projectId = "gone";
    host.publish(e);
    EXPECT_EQ(host.request("GET", "/api/bookmarks?project_id=gone").body, "[]");
    EXPECT_EQ(host.request("GET", "/api/bookmarks?project_id=kept").jsonArray()->size(), 1u);
}

TEST(Bookmarks, RunsOnlyThisEnginesMigrations) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    // The SQLite table (AUTOINCREMENT) exists with the portable index; the PostgreSQL step never ran.
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(host.sqlite(), "SELECT name FROM sqlite_master WHERE name LIKE 'bookmarks_%' ORDER BY name",
                           -1, &st, nullptr),
        SQLITE_OK);
    std::vector<std::string> names;
    while (sqlite3_step(st) == SQLITE_ROW)
        names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    EXPECT_EQ(names, (std::vector<std::string>{"bookmarks_items", "bookmarks_items_project"}));
}

TEST(Bookmarks, RefusesAHostTableTooShortForWhatItCalls) {
    atelier::testing::FakeHost host;
    host.truncateTable(offsetof(atelier_host_v1, event_publish));
    try {
        host.load(atelier_module_entry_v1());
        ADD_FAILURE() << "loaded on a host without event_subscribe";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("the host does not offer event_subscribe"), std::string::npos) << e.what();
    }
    EXPECT_EQ(host.request("GET", "/api/bookmarks").status, 404);
}
