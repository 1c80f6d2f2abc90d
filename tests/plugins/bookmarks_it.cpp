// The plain C bookmarks plugin loaded by the real host: its routes over a real socket, the
// uniform error body, its row in /api/modules, and the subscription that follows a project
// deleted through the projects module.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "test_server.hpp"

using atelier::test::TestServer;

namespace {

void expectError(const atelier::test::HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto o = r.json();
    ASSERT_TRUE(o) << r.body;
    EXPECT_EQ(o->getValue<bool>("success"), false);
    EXPECT_EQ(o->getValue<std::string>("code"), code);
    EXPECT_FALSE(o->getValue<std::string>("error").empty());
}

}  // namespace

TEST(BookmarksPlugin, ServesItsRoutesFromTheRealHost) {
    TestServer server;
    auto mods = server.get("/api/modules").json()->getArray("data");
    std::string state;
    for (size_t i = 0; i < mods->size(); ++i)
        if (mods->getObject(static_cast<unsigned>(i))->getValue<std::string>("id") == "bookmarks")
            state = mods->getObject(static_cast<unsigned>(i))->getValue<std::string>("state");
    EXPECT_EQ(state, "running");

    auto created = server.post("/api/bookmarks", R"({"url":"https://example.com","title":"Example"})");
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.header("content-type"), "application/json");
    auto id = std::to_string(created.json()->getValue<int64_t>("id"));
    EXPECT_EQ(server.get("/api/bookmarks/" + id).json()->getValue<std::string>("title"), "Example");
    expectError(server.post("/api/bookmarks", "{not json"), 400, "INVALID_JSON");
    expectError(server.post("/api/bookmarks", R"x({"url":"javascript:alert(1)"})x"), 400, "VALIDATION_ERROR");
    expectError(server.post("/api/bookmarks", R"({"url":"https://example.com","title":"Again"})"), 409,
                "BOOKMARK_EXISTS");
    expectError(server.get("/api/bookmarks/999"), 404, "BOOKMARK_NOT_FOUND");
    EXPECT_EQ(server.del("/api/bookmarks/" + id).status, 204);
    EXPECT_EQ(server.get("/api/bookmarks").body, "[]");
}

TEST(BookmarksPlugin, FollowsProjectDeletionOnTheBus) {
    TestServer server;
    auto project = server.post("/api/projects", R"({"name":"Bookmarked"})");
    ASSERT_EQ(project.status, 201) << project.body;
    auto projectId = project.json()->getValue<std::string>("id");
    ASSERT_EQ(server.post("/api/bookmarks", R"({"url":"https://a.org","project_id":")" + projectId + "\"}").status,
              201);
    ASSERT_EQ(server.post("/api/bookmarks", R"({"url":"https://b.org","project_id":"other"})").status, 201);
    ASSERT_EQ(server.get("/api/bookmarks?project_id=" + projectId).jsonArray()->size(), 1u);

    ASSERT_EQ(server.del("/api/projects/" + projectId).status, 204);
    // The bus delivers after the publishing request returned: wait for the plugin to catch up.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string left;
    while ((left = server.get("/api/bookmarks?project_id=" + projectId).body) != "[]" &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(left, "[]");
    EXPECT_EQ(server.get("/api/bookmarks?project_id=other").jsonArray()->size(), 1u);
}
