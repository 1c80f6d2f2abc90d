// The tickets module over the real host and real sockets, with the projects module:
// routes end to end, the 16-way concurrency cases, multipart uploads, OpenKit tasks and
// notes on the active project, events with actor profiles, persistence across restarts.
#include <test_server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace {

using atelier::test::HttpResult;
using atelier::test::TestServer;
using Obj = Poco::JSON::Object::Ptr;

std::string str(const Obj& o, const std::string& k) { return o->getValue<std::string>(k); }

// Starts all threads at once.
class Gate {
public:
    void wait() {
        std::unique_lock l(m_);
        cv_.wait(l, [&] { return open_; });
    }
    void open() {
        {
            std::lock_guard l(m_);
            open_ = true;
        }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

class TicketsIt : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new TestServer(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static TestServer& s() { return *server_; }
    static Obj newProject(const std::string& name) {
        auto r = s().post("/api/projects", R"({"name":")" + name + R"(","owner_id":"user-1"})");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json();
    }
    static Obj createTicket(const std::string& project, const std::string& title, const std::string& extra = "") {
        auto r = s().post("/api/tickets", R"({"project_id":")" + project + R"(","author_id":"user-1","title":")" + title + "\"" + extra + "}");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json();
    }
    static TestServer* server_;
};
TestServer* TicketsIt::server_ = nullptr;

TEST_F(TicketsIt, TicketLifecycleOverHttp) {
    auto p = newProject("Lifecycle");
    std::string slug = str(p, "slug"), id = str(p, "id");
    auto a = createTicket(slug, "We are running late", R"(,"body":"first body","priority":3)");
    EXPECT_EQ(a->getValue<int>("ticket_number"), 1);
    EXPECT_EQ(str(a, "project_id"), id);
    EXPECT_EQ(str(a->getObject("author"), "id"), "user-1");
    createTicket(id, "Second");
    std::string base = "/api/projects/" + slug + "/tickets/by-number/";
    auto g = s().get(base + "1");
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(str(g.json(), "title"), "We are running late");
    EXPECT_EQ(s().get("/api/projects/" + id + "/tickets/by-number/2").status, 200);
    auto u = s().patch(base + "1", R"({"status":"closed","updated_by_id":"user-1"})");
    ASSERT_EQ(u.status, 200) << u.body;
    EXPECT_FALSE(u.json()->isNull("closed_at"));

    auto search = s().get("/api/tickets?project_id=" + slug + "&search=run");
    ASSERT_EQ(search.status, 200) << search.body;
    auto arr = search.jsonArray();
    ASSERT_EQ(arr->size(), 1u);
    EXPECT_EQ(str(arr->getObject(0), "match_source"), "title");
    EXPECT_NE(str(arr->getObject(0), "match_context").find("«running»"), std::string::npos);
    EXPECT_EQ(s().get("/api/tickets?search=%22%28%29NEAR%20AND*").status, 200);

    // numbering after deleting the highest
    EXPECT_EQ(s().del(base + "2").status, 204);
    EXPECT_EQ(createTicket(slug, "Third")->getValue<int>("ticket_number"), 3);
    auto counts = s().get("/api/tickets/counts?project_id=" + slug).json();
    EXPECT_EQ(counts->getValue<int>("open"), 1);
    EXPECT_EQ(counts->getValue<int>("closed"), 1);

    // errors in the uniform shape, never a 500
    auto bad = s().post("/api/tickets", R"({"project_id":")" + slug + R"(","author_id":"user-1","title":7})");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(str(bad.json(), "code"), "VALIDATION_ERROR");
    EXPECT_FALSE(bad.json()->getValue<bool>("success"));
    EXPECT_EQ(s().get("/api/projects/ghost/tickets/by-number/1").status, 404);
    EXPECT_EQ(s().post("/api/tickets", "[1,2]").status, 400);
    EXPECT_EQ(s().get(base + "99999999999999999999").status, 400);
}

TEST_F(TicketsIt, SixteenConcurrentCreatesGetConsecutiveNumbers) {
    auto p = newProject("Concurrent creates");
    std::string pid = str(p, "id");
    Gate gate;
    std::vector<int> numbers(16, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) {
        threads.emplace_back([&, i] {
            gate.wait();
            auto r = s().post("/api/tickets", R"({"project_id":")" + pid + R"(","author_id":"user-1","title":"c)" + std::to_string(i) + "\"}");
            if (r.status == 201) numbers[static_cast<size_t>(i)] = r.json()->getValue<int>("ticket_number");
        });
    }
    gate.open();
    for (auto& t : threads) t.join();
    std::sort(numbers.begin(), numbers.end());
    for (int i = 0; i < 16; ++i) EXPECT_EQ(numbers[static_cast<size_t>(i)], i + 1);
}

TEST_F(TicketsIt, SixteenConcurrentClaimersExactlyOneWins) {
    auto p = newProject("Concurrent claims");
    std::string slug = str(p, "slug");
    createTicket(slug, "Contended");
    for (int i = 0; i < 16; ++i)
        ASSERT_EQ(s().post("/api/profiles", R"({"type":"agent","name":"Agent )" + std::to_string(i) + R"(","id":"claimer-)" + std::to_string(i) + "\"}").status, 201);
    Gate gate;
    std::atomic<int> wins{0}, conflicts{0}, other{0};
    std::mutex m;
    std::string winner;
    std::set<std::string> reportedOwners;
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) {
        threads.emplace_back([&, i] {
            gate.wait();
            auto r = s().post("/api/projects/" + slug + "/tickets/by-number/1/claim",
                              R"({"claimer_id":"claimer-)" + std::to_string(i) + R"(","duration_minutes":10})");
            std::lock_guard l(m);
            if (r.status == 200) {
                ++wins;
                winner = str(r.json(), "claimed_by_id");
            } else if (r.status == 409) {
                ++conflicts;
                reportedOwners.insert(str(r.json()->getObject("ticket"), "claimed_by_id"));
            } else {
                ++other;
            }
        });
    }
    gate.open();
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), 15);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(reportedOwners, std::set<std::string>{winner});
    EXPECT_EQ(str(s().get("/api/projects/" + slug + "/tickets/by-number/1").json(), "claimed_by_id"), winner);
}

TEST_F(TicketsIt, CommentsMentionsTimelineAndEvents) {
    auto p = newProject("Talk");
    std::string slug = str(p, "slug"), pid = str(p, "id");
    createTicket(slug, "Referenced");
    createTicket(slug, "Discussion");
    ASSERT_EQ(s().post("/api/profiles", R"({"type":"agent","name":"Helper","id":"helper-1"})").status, 201);
    std::string base = "/api/projects/" + slug + "/tickets/by-number/2";
    auto c = s().post(base + "/comments", R"x({"author_id":"user-1","body":"@[Helper](helper-1) look at #1 (not `#1`)"})x");
    ASSERT_EQ(c.status, 201) << c.body;
    auto cid = std::to_string(c.json()->getValue<int>("id"));
    auto mentions = s().get("/api/comments/" + cid + "/mentions").jsonArray();
    ASSERT_EQ(mentions->size(), 2u);
    s().patch(base, R"({"status":"in_progress"})");
    auto edited = s().patch("/api/comments/" + cid, R"({"body":"edited"})");
    EXPECT_TRUE(edited.json()->getValue<bool>("is_edited"));
    auto tl = s().get(base + "/timeline?limit=10").json();
    auto items = tl->getArray("items");
    ASSERT_GE(items->size(), 4u);
    EXPECT_EQ(str(items->getObject(0)->getObject("data"), "event_type"), "ticket.created");
    EXPECT_EQ(str(items->getObject(1), "type"), "comment");
    EXPECT_EQ(tl->getValue<int>("total"), static_cast<int>(items->size()));

    // published on the host bus with the actor's profile attached by the profiles.lookup hook
    auto ev = s().get("/api/events?event_type=mention.created&project_id=" + pid);
    ASSERT_EQ(ev.status, 200) << ev.body;
    auto list = ev.jsonArray();
    ASSERT_TRUE(list) << ev.body;
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ(str(list->getObject(0)->getObject("actor"), "id"), "user-1");
    EXPECT_EQ(s().del("/api/comments/" + cid).status, 204);
}

TEST_F(TicketsIt, AttachmentsMultipartOverSockets) {
    auto p = newProject("Files");
    std::string slug = str(p, "slug");
    createTicket(slug, "Has files");
    std::string png("\x89PNG\r\n\x1a\n", 8);
    png += std::string(100, 'p');
    auto body = [&](const std::string& name, const std::string& type, const std::string& data) {
        return "--XB\r\nContent-Disposition: form-data; name=\"uploaded_by_id\"\r\n\r\nuser-1\r\n--XB\r\nContent-Disposition: form-data; "
               "name=\"file\"; filename=\"" + name + "\"\r\nContent-Type: " + type + "\r\n\r\n" + data + "\r\n--XB--\r\n";
    };
    std::map<std::string, std::string> h{{"Content-Type", "multipart/form-data; boundary=XB"}};
    std::string url = "/api/projects/" + slug + "/tickets/by-number/1/attachments";
    auto up = s().request("POST", url, body("../../x/evil.png", "image/png", png), h);
    ASSERT_EQ(up.status, 201) << up.body;
    EXPECT_EQ(str(up.json(), "filename"), "evil.png");
    auto id = std::to_string(up.json()->getValue<int>("id"));
    auto dl = s().get("/api/attachments/" + id + "/download");
    EXPECT_EQ(dl.body, png);
    EXPECT_EQ(dl.header("content-type"), "image/png");
    EXPECT_NE(dl.header("content-disposition").find("attachment; filename=\"evil.png\""), std::string::npos);
    auto refused = s().request("POST", url, body("a.sh", "application/x-sh", "#!/bin/sh\n"), h);
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(str(refused.json(), "code"), "UNSUPPORTED_FILE_TYPE");
    EXPECT_EQ(s().del("/api/attachments/" + id).status, 204);
    EXPECT_EQ(s().get("/api/attachments/" + id + "/download").status, 404);
}

TEST_F(TicketsIt, TasksAndNotesOnTheActiveProject) {
    auto p = newProject("Openkit");
    std::string slug = str(p, "slug");
    auto t = s().post("/api/tasks?project=" + slug, R"({"title":"Local work","priority":"low","labels":["x"]})");
    ASSERT_EQ(t.status, 201) << t.body;
    EXPECT_EQ(str(t.json()->getObject("task"), "id"), "LOCAL-1");
    auto ticket = s().get("/api/projects/" + slug + "/tickets/by-number/1").json();
    EXPECT_EQ(ticket->getValue<int>("priority"), 1);
    s().patch("/api/projects/" + slug + "/tickets/by-number/1", R"({"status":"closed"})");
    auto viaHeader = s().request("GET", "/api/tasks/LOCAL-1", "", {{"X-Atelier-Project", slug}});
    ASSERT_EQ(viaHeader.status, 200) << viaHeader.body;
    EXPECT_EQ(str(viaHeader.json()->getObject("task"), "status"), "done");
    auto wt = s().post("/api/tasks/LOCAL-1/create-worktree?project=" + slug, "{}");
    EXPECT_GE(wt.status, 400) << wt.body;  // no worktrees module loaded: a clear error, not a crash
    EXPECT_FALSE(wt.json()->getValue<bool>("success"));
    auto n = s().put("/api/notes/local/LOCAL-1?project=" + slug, R"({"section":"aiContext","content":"use the cache"})");
    ASSERT_EQ(n.status, 200) << n.body;
    EXPECT_EQ(str(n.json()->getObject("aiContext"), "content"), "use the cache");
    EXPECT_EQ(s().get("/api/notes/nope/1?project=" + slug).status, 400);
    EXPECT_EQ(s().del("/api/tasks/LOCAL-1?project=" + slug).status, 200);
    EXPECT_EQ(str(s().post("/api/tasks?project=" + slug, R"({"title":"again"})").json()->getObject("task"), "id"), "LOCAL-2");
}

TEST_F(TicketsIt, LabelsMilestonesProfilesAndClaimRoutes) {
    auto p = newProject("Routes");
    std::string slug = str(p, "slug");
    std::string base = "/api/projects/" + slug + "/tickets/by-number/1";
    createTicket(slug, "Route sweep");
    // labels
    auto l = s().post("/api/projects/" + slug + "/labels", R"({"name":"bug","color":"#00ff00"})");
    ASSERT_EQ(l.status, 201) << l.body;
    auto lid = std::to_string(l.json()->getValue<int>("id"));
    EXPECT_EQ(s().post("/api/projects/" + slug + "/labels", R"({"name":"x","color":"#zzzzzz"})").status, 400);
    EXPECT_EQ(s().post(base + "/labels/" + lid, R"({"added_by_id":"user-1"})").status, 201);
    EXPECT_EQ(s().get(base + "/labels").jsonArray()->size(), 1u);
    EXPECT_EQ(s().get("/api/projects/" + slug + "/labels?sort=usage").jsonArray()->getObject(0)->getValue<int>("usage_count"), 1);
    EXPECT_EQ(str(s().patch("/api/labels/" + lid, R"({"name":"defect"})").json(), "name"), "defect");
    EXPECT_EQ(s().get("/api/labels/" + lid + "/triggers").body, "[]");
    EXPECT_EQ(s().get("/api/projects/" + slug + "/smart-label-ids").body, "[]");
    EXPECT_EQ(s().request("DELETE", base + "/labels/" + lid, R"({"removed_by_id":"user-1"})").status, 204);
    EXPECT_EQ(s().del("/api/labels/" + lid).status, 204);
    EXPECT_EQ(s().get("/api/labels/" + lid).status, 404);
    // milestones
    auto m = s().post("/api/projects/" + slug + "/milestones", R"({"title":"M1","due_date":"2027-02-01"})");
    ASSERT_EQ(m.status, 201) << m.body;
    auto mid = std::to_string(m.json()->getValue<int>("id"));
    s().patch(base, R"({"milestone_id":)" + mid + "}");
    EXPECT_EQ(s().get("/api/milestones/" + mid).json()->getValue<int>("open_count"), 1);
    EXPECT_EQ(s().get("/api/projects/" + slug + "/milestones").jsonArray()->size(), 1u);
    EXPECT_EQ(str(s().patch("/api/milestones/" + mid, R"({"status":"closed"})").json(), "status"), "closed");
    EXPECT_EQ(s().del("/api/milestones/" + mid).status, 204);
    // profiles and settings
    auto prof = s().post("/api/profiles", R"({"type":"user","name":"Second User","email":"second@example.com"})");
    ASSERT_EQ(prof.status, 201);
    auto pid = str(prof.json(), "id");
    EXPECT_EQ(s().get("/api/profiles?search=second").jsonArray()->size(), 1u);
    EXPECT_EQ(str(s().patch("/api/profiles/" + pid, R"({"description":"hi"})").json(), "description"), "hi");
    EXPECT_EQ(s().put("/api/profile-settings", R"({"profile_id":")" + pid + R"(","setting_key":"k","setting_value":"v"})").status, 200);
    EXPECT_EQ(str(s().get("/api/profiles/" + pid + "/settings/k").json(), "setting_value"), "v");
    EXPECT_EQ(s().get("/api/profiles/" + pid + "/settings").jsonArray()->size(), 1u);
    EXPECT_EQ(s().del("/api/profiles/" + pid + "/settings/k").status, 204);
    EXPECT_EQ(s().del("/api/profiles/" + pid).status, 204);
    EXPECT_FALSE(s().get("/api/profiles/" + pid).json()->getValue<bool>("is_active"));
    // claims, view, events
    EXPECT_EQ(s().post(base + "/claim", R"({"claimer_id":"user-1","duration_minutes":5})").status, 200);
    EXPECT_EQ(s().post(base + "/claim/extend", R"({"additional_minutes":5})").status, 200);
    EXPECT_EQ(s().post(base + "/unclaim", R"({"claimer_id":"user-1"})").status, 200);
    EXPECT_EQ(s().post(base + "/unclaim", "{}").status, 409);
    EXPECT_EQ(str(s().post(base + "/view", R"({"profile_id":"user-1"})").json(), "profile_id"), "user-1");
    auto evs = s().get(base + "/events").jsonArray();
    ASSERT_GE(evs->size(), 5u);
    EXPECT_EQ(str(evs->getObject(0), "event_type"), "ticket.created");
    EXPECT_EQ(str(evs->getObject(0)->getObject("actor"), "id"), "user-1");
    auto c = s().post(base + "/comments", R"({"author_id":"user-1","body":"hello"})").json();
    EXPECT_EQ(s().get(base + "/comments?author_id=user-1&parent_id=null").jsonArray()->size(), 1u);
    EXPECT_EQ(s().get("/api/comments/" + std::to_string(c->getValue<int>("id"))).status, 200);
    EXPECT_EQ(s().get("/api/comments/" + std::to_string(c->getValue<int>("id")) + "/attachments").body, "[]");
    // an upload over the 10 MB limit never gets in (the host refuses bodies above 10 MB itself)
    std::string big = "--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.png\"\r\nContent-Type: image/png\r\n\r\n";
    big.append("\x89PNG\r\n\x1a\n");
    big.append(10 * 1024 * 1024, 'x');
    big.append("\r\n--XB--\r\n");
    auto tooBig = s().request("POST", base + "/attachments", big, {{"Content-Type", "multipart/form-data; boundary=XB"}});
    EXPECT_TRUE(tooBig.status == 400 || tooBig.status == 413) << tooBig.status;
    EXPECT_FALSE(tooBig.json()->getValue<bool>("success"));
    EXPECT_EQ(s().get(base + "/attachments").body, "[]");
}

TEST_F(TicketsIt, CommentEventIsDeliveredLiveOnTheTicketTopic) {
    auto p = newProject("Live");
    std::string slug = str(p, "slug"), pid = str(p, "id");
    createTicket(slug, "Watched");
    auto ws = s().websocket("/ws", "http://localhost:5173");
    std::string sub = R"({"type":"subscribe","topics":["ticket:)" + pid + R"(:1"]})";
    ws->sendFrame(sub.data(), static_cast<int>(sub.size()), Poco::Net::WebSocket::FRAME_TEXT);
    EXPECT_NE(atelier::test::wsReceive(*ws).find("subscribed"), std::string::npos);
    ASSERT_EQ(s().post("/api/projects/" + slug + "/tickets/by-number/1/comments", R"({"author_id":"user-1","body":"live"})").status, 201);
    std::string got;
    for (int i = 0; i < 5 && got.find("comment.added") == std::string::npos; ++i) got = atelier::test::wsReceive(*ws);
    EXPECT_NE(got.find("\"comment.added\""), std::string::npos) << got;
    EXPECT_NE(got.find("\"type\":\"event\""), std::string::npos) << got;
}

TEST(TicketsItRestart, NumbersSurviveRestartAndLocalUserExists) {
    TestServer::Options opts;
    opts.dataDir = atelier::test::makeTempDir();
    std::string slug;
    {
        TestServer srv(opts);
        EXPECT_EQ(srv.get("/api/profiles/user-1").status, 200);
        auto p = srv.post("/api/projects", R"({"name":"Persist"})").json();
        slug = str(p, "slug");
        for (int i = 0; i < 3; ++i)
            srv.post("/api/tickets", R"({"project_id":")" + slug + R"(","author_id":"user-1","title":"t"})");
        EXPECT_EQ(srv.del("/api/projects/" + slug + "/tickets/by-number/3").status, 204);
    }
    TestServer srv(opts);
    auto r = srv.post("/api/tickets", R"({"project_id":")" + slug + R"(","author_id":"user-1","title":"after restart"})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.json()->getValue<int>("ticket_number"), 4);
    srv.stop();
    std::error_code ec;
    std::filesystem::remove_all(opts.dataDir, ec);
}

}  // namespace
