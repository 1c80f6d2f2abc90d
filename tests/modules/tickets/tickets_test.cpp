// Tickets over the fake host: CRUD, numbering, filters, search, comments and mentions,
// claims, timeline, labels, milestones, profiles, hooks.
#include "fakes.hpp"
#include "schema.hpp"
#include "search.hpp"

#include <sqlite3.h>

#include <map>
#include <set>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

using atelier::JsonObject;
using atelier::testing::FakeHost;
using fakes::kAlphaId;
using fakes::kBetaId;

const std::string kTickets = "/api/projects/alpha/tickets/by-number/";

class TicketsTest : public ::testing::Test {
protected:
    void SetUp() override {
        host.load(fakes::entryFor<fakes::FakeProjects>("projects"));
        host.load(atelier_module_entry_v1());
    }
    JsonObject create(const std::string& title, const std::string& extra = "", const std::string& project = "alpha") {
        auto r = host.request("POST", "/api/tickets",
                              R"({"project_id":")" + project + R"(","author_id":"user-1","title":")" + title + "\"" + extra + "}");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json();
    }
    std::vector<std::string> eventTypes() {
        std::vector<std::string> out;
        for (auto& e : host.events()) out.push_back(e.type);
        return out;
    }
    void sql(const std::string& s) { ASSERT_EQ(sqlite3_exec(host.sqlite(), s.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << s; }
    FakeHost host;
};

TEST_F(TicketsTest, CreateGetUpdateDeleteWithNumbering) {
    auto a = create("First", R"(,"body":"hello","priority":2,"status":"in_progress")");
    EXPECT_EQ(a->getValue<int>("ticket_number"), 1);
    EXPECT_EQ(a->getValue<std::string>("project_id"), kAlphaId);
    EXPECT_EQ(a->getValue<std::string>("status"), "in_progress");
    EXPECT_EQ(a->getObject("author")->getValue<std::string>("id"), "user-1");
    EXPECT_TRUE(a->isNull("assignee"));
    EXPECT_EQ(a->getArray("labels")->size(), 0u);
    EXPECT_EQ(a->getValue<std::string>("created_at").back(), 'Z');
    EXPECT_TRUE(a->getValue<bool>("triggers_enabled"));
    create("Second");
    auto c = create("Third");
    EXPECT_EQ(c->getValue<int>("ticket_number"), 3);
    // another project numbers independently
    EXPECT_EQ(create("Beta one", "", kBetaId)->getValue<int>("ticket_number"), 1);

    // by slug and by uuid
    auto g = host.request("GET", kTickets + "1");
    ASSERT_EQ(g.status, 200);
    EXPECT_EQ(g.json()->getValue<std::string>("title"), "First");
    EXPECT_EQ(host.request("GET", "/api/projects/" + kAlphaId + "/tickets/by-number/2").json()->getValue<std::string>("title"), "Second");

    // never reuse numbers: delete the highest then create
    EXPECT_EQ(host.request("DELETE", kTickets + "3").status, 204);
    EXPECT_EQ(host.request("GET", kTickets + "3").status, 404);
    EXPECT_EQ(create("Fourth")->getValue<int>("ticket_number"), 4);

    auto u = host.request("PATCH", kTickets + "1", R"({"status":"closed","assignee_id":"user-1","updated_by_id":"user-1"})");
    ASSERT_EQ(u.status, 200) << u.body;
    EXPECT_EQ(u.json()->getValue<std::string>("status"), "closed");
    EXPECT_FALSE(u.json()->isNull("closed_at"));
    EXPECT_EQ(u.json()->getObject("assignee")->getValue<std::string>("id"), "user-1");
    auto re = host.request("PATCH", kTickets + "1", R"({"status":"open"})");
    EXPECT_TRUE(re.json()->isNull("closed_at"));
    auto types = eventTypes();
    EXPECT_NE(std::find(types.begin(), types.end(), "ticket.closed"), types.end());
    EXPECT_NE(std::find(types.begin(), types.end(), "ticket.reopened"), types.end());
    EXPECT_EQ(std::count(types.begin(), types.end(), "ticket.created"), 5);
    auto evs = host.events();
    auto closed = std::find_if(evs.begin(), evs.end(), [](auto& e) { return e.type == "ticket.closed"; });
    EXPECT_EQ(closed->actorId, "user-1");
    EXPECT_EQ(closed->actorType, "user");
    // The Kombuse ticket fields travel as the envelope's subject and in its payload.
    EXPECT_EQ(closed->field("ticket_number"), "1");
    EXPECT_EQ(closed->subject.rfind("ticket/", 0), 0u) << closed->subject;
}

TEST_F(TicketsTest, ValidationAndErrors) {
    auto r = host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getArray("details")->getObject(0)->getValue<std::string>("field"), "title");
    EXPECT_EQ(host.request("POST", "/api/tickets", "{bad").json()->getValue<std::string>("code"), "INVALID_JSON");
    EXPECT_EQ(host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1","title":"x","priority":9})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1","title":"x","priority":"high"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1","title":"x","status":"nope"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"ghost","title":"x"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1","title":"x","label_ids":[999]})").status, 400);
    auto np = host.request("POST", "/api/tickets", R"({"project_id":"nope","author_id":"user-1","title":"x"})");
    EXPECT_EQ(np.status, 404);
    EXPECT_EQ(np.json()->getValue<std::string>("code"), "PROJECT_NOT_FOUND");
    EXPECT_EQ(host.request("GET", kTickets + "abc").status, 400);
    EXPECT_EQ(host.request("GET", kTickets + "99").status, 404);
    EXPECT_EQ(host.request("GET", "/api/tickets?sort_by=evil;drop").status, 400);
    EXPECT_EQ(host.request("GET", "/api/tickets?limit=abc").status, 400);
    EXPECT_EQ(host.request("GET", "/api/tickets/counts").status, 400);
    create("Only");
    EXPECT_EQ(host.request("PATCH", kTickets + "1", "{}").status, 400);
    EXPECT_EQ(host.request("PATCH", kTickets + "1", R"({"title":""})").status, 400);
    // nothing was written by the failed requests
    EXPECT_EQ(host.request("GET", "/api/tickets?project_id=alpha").jsonArray()->size(), 1u);
}

TEST_F(TicketsTest, ListFiltersSortingCountsAndUnread) {
    create("Low", R"(,"priority":1)");
    create("High", R"(,"priority":4,"assignee_id":"user-1")");
    create("Closed", R"(,"status":"closed","priority":2)");
    create("Other project", "", "beta");
    auto all = host.request("GET", "/api/tickets?project_id=alpha").jsonArray();
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->getObject(0)->getValue<std::string>("title"), "Closed");  // created_at desc
    auto byPrio = host.request("GET", "/api/tickets?project_id=alpha&sort_by=priority&sort_order=asc").jsonArray();
    EXPECT_EQ(byPrio->getObject(0)->getValue<std::string>("title"), "Low");
    EXPECT_EQ(host.request("GET", "/api/tickets?project_id=alpha&status=closed").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/tickets?project_id=alpha&priority=4").jsonArray()->getObject(0)->getValue<std::string>("title"), "High");
    EXPECT_EQ(host.request("GET", "/api/tickets?assignee_id=user-1").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/tickets?project_id=unknown").jsonArray()->size(), 0u);
    auto page = host.request("GET", "/api/tickets?project_id=alpha&limit=1&offset=1&sort_by=created_at&sort_order=asc").jsonArray();
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ(page->getObject(0)->getValue<std::string>("title"), "High");
    auto counts = host.request("GET", "/api/tickets/counts?project_id=alpha").json();
    EXPECT_EQ(counts->getValue<int>("open"), 2);
    EXPECT_EQ(counts->getValue<int>("closed"), 1);
    EXPECT_EQ(counts->getValue<int>("blocked"), 0);

    // has_unread
    auto unread = host.request("GET", "/api/tickets?project_id=alpha&viewer_id=user-1").jsonArray();
    EXPECT_TRUE(unread->getObject(0)->getValue<bool>("has_unread"));
    EXPECT_EQ(host.request("POST", kTickets + "3/view", R"({"profile_id":"user-1"})").status, 200);
    EXPECT_EQ(host.request("POST", kTickets + "3/view", R"({})").status, 400);
    auto after = host.request("GET", kTickets + "3?viewer_id=user-1").json();
    EXPECT_FALSE(after->getValue<bool>("has_unread"));

    // labels filter
    auto label = host.request("POST", "/api/projects/alpha/labels", R"({"name":"bug","color":"#FF0000"})").json();
    auto lid = std::to_string(label->getValue<int>("id"));
    EXPECT_EQ(host.request("POST", kTickets + "1/labels/" + lid, R"({"added_by_id":"user-1"})").status, 201);
    auto withLabel = host.request("GET", "/api/tickets?label_ids=" + lid).jsonArray();
    ASSERT_EQ(withLabel->size(), 1u);
    EXPECT_EQ(withLabel->getObject(0)->getArray("labels")->getObject(0)->getValue<std::string>("color"), "#ff0000");
}

TEST_F(TicketsTest, FullTextSearchWithStemmingSnippetsAndSources) {
    create("We run the migration", R"(,"body":"nothing special")");
    create("Unrelated", R"(,"body":"the deploy keeps crashing at night")");
    create("Quiet ticket", R"(,"body":"plain")");
    ASSERT_EQ(host.request("POST", kTickets + "3/comments", R"({"author_id":"user-1","body":"logs show the parser exploded"})").status, 201);

    auto run = host.request("GET", "/api/tickets?search=running").jsonArray();
    ASSERT_EQ(run->size(), 1u);
    EXPECT_EQ(run->getObject(0)->getValue<std::string>("match_source"), "title");
    EXPECT_NE(run->getObject(0)->getValue<std::string>("match_context").find("«run»"), std::string::npos);

    auto crash = host.request("GET", "/api/tickets?search=crashes").jsonArray();
    ASSERT_EQ(crash->size(), 1u);
    EXPECT_EQ(crash->getObject(0)->getValue<std::string>("match_source"), "body");

    auto comment = host.request("GET", "/api/tickets?search=explode&project_id=alpha").jsonArray();
    ASSERT_EQ(comment->size(), 1u);
    EXPECT_EQ(comment->getObject(0)->getValue<std::string>("match_source"), "comment");
    EXPECT_EQ(comment->getObject(0)->getValue<int>("ticket_number"), 3);

    // hostile input never errors
    for (std::string q : {"%22AND%20OR%20NOT%28", "NEAR(a%20b)", "*", "%22%22%22", "a:b", "-x", "^", "%7B%7D"}) {
        auto r = host.request("GET", "/api/tickets?search=" + q);
        EXPECT_EQ(r.status, 200) << q << " " << r.body;
    }
    EXPECT_EQ(host.request("GET", "/api/tickets?search=" + std::string(201, 'a')).status, 400);
    // a number matches the ticket number first
    auto num = host.request("GET", "/api/tickets?search=2").jsonArray();
    ASSERT_GE(num->size(), 1u);
    EXPECT_EQ(num->getObject(0)->getValue<int>("ticket_number"), 2);
    // edits keep the index in sync
    host.request("PATCH", kTickets + "1", R"({"title":"Renamed entirely"})");
    EXPECT_EQ(host.request("GET", "/api/tickets?search=migration").jsonArray()->size(), 0u);
    EXPECT_EQ(host.request("GET", "/api/tickets?search=renamed").jsonArray()->size(), 1u);
    host.request("DELETE", kTickets + "3");
    EXPECT_EQ(host.request("GET", "/api/tickets?search=parser").jsonArray()->size(), 0u);
}

TEST_F(TicketsTest, SearchWithinAProjectReturnsOnlyItsTicketsWithSourcesAndSnippets) {
    // The same words in every project: alpha's hits must come back, with their own sources.
    create("Parser crashes on unicode", R"(,"body":"stack trace attached")");             // alpha #1: title
    create("Startup is slow", R"(,"body":"the parser crashes when the cache is cold")");  // alpha #2: body
    create("Quiet one", R"(,"body":"nothing here")");                                     // alpha #3: comment
    ASSERT_EQ(host.request("POST", kTickets + "3/comments",
                           R"({"author_id":"user-1","body":"seen the parser crashing again"})")
                  .status,
              201);
    create("Parser crashes on unicode", R"(,"body":"parser crashes")", "beta");
    ASSERT_EQ(host.request("POST", "/api/projects/beta/tickets/by-number/1/comments",
                           R"({"author_id":"user-1","body":"parser crashes"})")
                  .status,
              201);
    // Tickets of further projects, written straight to the table: the triggers index them too.
    for (int p = 0; p < 6; ++p)
        for (int n = 1; n <= 3; ++n)
            sql("INSERT INTO tickets_items (project_id, ticket_number, author_id, title, body, last_activity_at, "
                "created_at, updated_at)"
                " VALUES ('project-" +
                std::to_string(p) + "', " + std::to_string(n) + ", 'user-1', 'Parser crashes " + std::to_string(n) +
                "', 'the parser crashes', '2024-01-01T00:00:00.000Z',"
                " '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')");

    auto all = host.request("GET", "/api/tickets?search=parser%20crash&limit=100").jsonArray();
    EXPECT_EQ(all->size(), 3u + 1u + 18u);

    auto hits = host.request("GET", "/api/tickets?search=parser%20crash&project_id=alpha").jsonArray();
    ASSERT_EQ(hits->size(), 3u);
    std::map<int, std::pair<std::string, std::string>> byNumber;
    for (size_t i = 0; i < hits->size(); ++i) {
        auto o = hits->getObject(static_cast<unsigned>(i));
        EXPECT_EQ(o->getValue<std::string>("project_id"), kAlphaId);
        byNumber[o->getValue<int>("ticket_number")] = {o->getValue<std::string>("match_source"),
                                                       o->getValue<std::string>("match_context")};
    }
    EXPECT_EQ(byNumber[1].first, "title");
    EXPECT_NE(byNumber[1].second.find("«Parser» «crashes»"), std::string::npos) << byNumber[1].second;
    EXPECT_EQ(byNumber[2].first, "body");
    EXPECT_NE(byNumber[2].second.find("«parser» «crashes»"), std::string::npos) << byNumber[2].second;
    EXPECT_EQ(byNumber[3].first, "comment");
    EXPECT_NE(byNumber[3].second.find("«parser» «crashing»"), std::string::npos) << byNumber[3].second;
    // title (weighted 5x) ranks before body, comment-only hits last
    EXPECT_EQ(hits->getObject(0)->getValue<int>("ticket_number"), 1);
    EXPECT_EQ(hits->getObject(2)->getValue<int>("ticket_number"), 3);

    auto beta = host.request("GET", "/api/tickets?search=crashes&project_id=beta").jsonArray();
    ASSERT_EQ(beta->size(), 1u);
    EXPECT_EQ(beta->getObject(0)->getValue<std::string>("project_id"), kBetaId);
    EXPECT_EQ(beta->getObject(0)->getValue<std::string>("match_source"), "title");
    // a number matches within the project only (every project here has a #2)
    auto num = host.request("GET", "/api/tickets?search=2&project_id=alpha").jsonArray();
    ASSERT_EQ(num->size(), 1u);
    EXPECT_EQ(num->getObject(0)->getValue<std::string>("project_id"), kAlphaId);
    EXPECT_EQ(num->getObject(0)->getValue<int>("ticket_number"), 2);
    EXPECT_EQ(num->getObject(0)->getValue<std::string>("match_source"), "title");
    // a short prefix (the stemmer makes "crashs" "crash*") still finds every form
    EXPECT_EQ(host.request("GET", "/api/tickets?search=cra&project_id=alpha").jsonArray()->size(), 3u);
    EXPECT_EQ(host.request("GET", "/api/tickets?search=crashs&project_id=alpha").jsonArray()->size(), 3u);
    // hostile input scoped to a project never errors either
    for (std::string q : {"%22AND%20OR%20NOT%28", "NEAR(a%20b)", "scope%3Ax", "%7Bscope%7D%3A%20p", "-x"})
        EXPECT_EQ(host.request("GET", "/api/tickets?project_id=alpha&search=" + q).status, 200) << q;

    // deleting a ticket with comments leaves both indexes consistent with their tables
    EXPECT_EQ(host.request("DELETE", kTickets + "3").status, 204);
    host.request("PATCH", kTickets + "2", R"({"title":"Startup is slow, parser too"})");
    sql("INSERT INTO tickets_fts(tickets_fts, rank) VALUES ('integrity-check', 1)");
    sql("INSERT INTO tickets_comments_fts(tickets_comments_fts, rank) VALUES ('integrity-check', 1)");
    EXPECT_EQ(host.request("GET", "/api/tickets?search=crashing&project_id=alpha").jsonArray()->size(), 2u);
}

TEST_F(TicketsTest, SearchPagesAcrossTitleAndCommentHitsInRankOrder) {
    // Five title hits and four comment-only hits: every page must be the matching slice of
    // the full ranking, whichever side of the boundary it falls on.
    for (int i = 1; i <= 5; ++i) create("Deploy step " + std::to_string(i));
    for (int i = 6; i <= 9; ++i) {
        create("Other " + std::to_string(i));
        ASSERT_EQ(host.request("POST", kTickets + std::to_string(i) + "/comments",
                               R"({"author_id":"user-1","body":"deploy failed"})")
                      .status,
                  201);
    }
    create("Unrelated");
    // a comment on a title hit does not make it a comment hit
    ASSERT_EQ(host.request("POST", kTickets + "2/comments", R"({"author_id":"user-1","body":"deploy again"})").status,
              201);
    auto numbers = [&](const std::string& query) {
        std::vector<int> out;
        auto arr = host.request("GET", "/api/tickets?project_id=alpha&search=deploy" + query).jsonArray();
        for (size_t i = 0; i < arr->size(); ++i)
            out.push_back(arr->getObject(static_cast<unsigned>(i))->getValue<int>("ticket_number"));
        return out;
    };
    auto full = numbers("&limit=100");
    ASSERT_EQ(full.size(), 9u);
    std::set<int> titles(full.begin(), full.begin() + 5), comments(full.begin() + 5, full.end());
    EXPECT_EQ(titles, (std::set<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(comments, (std::set<int>{6, 7, 8, 9}));
    // comment-only hits among themselves: most recently updated first
    EXPECT_EQ(std::vector<int>(full.begin() + 5, full.end()), (std::vector<int>{9, 8, 7, 6}));
    for (int limit : {1, 2, 3, 4, 5}) {
        for (int offset = 0; offset <= 10; ++offset) {
            auto page = numbers("&limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset));
            std::vector<int> want(full.begin() + std::min<size_t>(offset, full.size()),
                                  full.begin() + std::min<size_t>(offset + limit, full.size()));
            EXPECT_EQ(page, want) << "limit " << limit << " offset " << offset;
        }
    }
    // filters apply to both kinds of hits
    host.request("PATCH", kTickets + "7", R"({"status":"closed"})");
    host.request("PATCH", kTickets + "3", R"({"status":"closed"})");
    auto closed = numbers("&status=closed");
    EXPECT_EQ(closed, (std::vector<int>{3, 7}));
    auto open = numbers("&status=open&limit=6");
    ASSERT_EQ(open.size(), 6u);
    EXPECT_EQ(std::set<int>(open.begin(), open.begin() + 4), (std::set<int>{1, 2, 4, 5}));
    EXPECT_EQ(std::vector<int>(open.begin() + 4, open.end()), (std::vector<int>{9, 8}));
    // an explicit sort puts both kinds together
    auto byCreated = numbers("&sort_by=created_at&sort_order=asc&limit=100");
    EXPECT_EQ(byCreated, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(SearchMigration, RebuildsTheIndexesOfExistingTicketsAndComments) {
    // Data written under migrations 1-5, then migration 6: the rebuilt indexes find it by
    // project and stay consistent through later writes.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    auto exec = [&](const std::string& s) {
        char* err = nullptr;
        int rc = sqlite3_exec(db, s.c_str(), nullptr, nullptr, &err);
        EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << "\n" << s;
        sqlite3_free(err);
    };
    auto count = [&](const std::string& s, const std::string& param) {
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, s.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_bind_text(st, 1, param.c_str(), -1, SQLITE_TRANSIENT);
        int n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) ++n;
        sqlite3_finalize(st);
        return n;
    };
    auto steps = tickets::migrations();
    ASSERT_GE(steps.size(), 6u);
    for (size_t i = 0; i < 5; ++i) exec(steps[i]);
    for (int i = 1; i <= 4; ++i) {
        std::string project = i % 2 ? "proj-a" : "proj-b";
        exec(
            "INSERT INTO tickets_items (project_id, ticket_number, author_id, title, body, last_activity_at, "
            "created_at, updated_at)"
            " VALUES ('" +
            project + "', " + std::to_string(i) + ", 'user-1', 'Running migrations " + std::to_string(i) +
            "', NULL, 'x', 'x', 'x')");
        exec("INSERT INTO tickets_comments (ticket_id, author_id, body, created_at, updated_at, seq) VALUES (" +
             std::to_string(i) + ", 'user-1', 'the indexer stalled', 'x', 'x', " + std::to_string(i) + ")");
    }
    exec(
        "INSERT INTO tickets_activity (ticket_id, project_id, event_type, actor_type, ticket_number, payload, "
        "created_at, seq)"
        " VALUES (2, 'proj-b', 'ticket.created', 'user', 2, '{}', '2024-01-01T00:00:00.000Z', 1704067200000000)");
    for (size_t i = 5; i < steps.size(); ++i) exec(steps[i]);
    EXPECT_EQ(
        count("SELECT id FROM tickets_activity WHERE ticket_id = 2 AND seq = 1704067200000000 AND payload = ?", "{}"),
        1);
    EXPECT_EQ(tickets::isoFromSeq(1704067200000000), "2024-01-01T00:00:00.000Z");
    auto ticketsIn = [&](const std::optional<std::string>& project, const std::string& q) {
        return count("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?",
                     tickets::matchExpression(tickets::buildFtsQuery(q), "{title body}", project));
    };
    auto commentsIn = [&](const std::optional<std::string>& project, const std::string& q) {
        return count("SELECT rowid FROM tickets_comments_fts WHERE tickets_comments_fts MATCH ?",
                     tickets::matchExpression(tickets::buildFtsQuery(q), "body", project));
    };
    EXPECT_EQ(ticketsIn(std::nullopt, "run"), 4);
    EXPECT_EQ(ticketsIn("proj-a", "run"), 2);
    EXPECT_EQ(ticketsIn("proj-b", "migration"), 2);
    EXPECT_EQ(ticketsIn("proj-c", "migration"), 0);
    EXPECT_EQ(commentsIn("proj-a", "stall"), 2);
    EXPECT_EQ(commentsIn("proj-b", "indexer"), 2);
    // the project's own words are not searchable text
    EXPECT_EQ(ticketsIn(std::nullopt, tickets::scopeToken("proj-a")), 0);
    exec("DELETE FROM tickets_comments WHERE ticket_id = 1");
    exec("DELETE FROM tickets_items WHERE id = 1");
    exec("UPDATE tickets_items SET title = 'Walking' WHERE id = 3");
    exec(
        "INSERT INTO tickets_comments (ticket_id, author_id, body, created_at, updated_at, seq) VALUES (2, 'user-1', "
        "'stalled twice', 'x', 'x', 9)");
    EXPECT_EQ(ticketsIn("proj-a", "run"), 0);
    EXPECT_EQ(commentsIn("proj-b", "stall"), 3);
    exec("INSERT INTO tickets_fts(tickets_fts, rank) VALUES ('integrity-check', 1)");
    exec("INSERT INTO tickets_comments_fts(tickets_comments_fts, rank) VALUES ('integrity-check', 1)");
    sqlite3_close(db);
}

TEST_F(TicketsTest, CommentsThreadsEditsAndMentions) {
    create("Target");
    create("Source");
    auto agent = host.request("POST", "/api/profiles", R"({"type":"agent","name":"Coder","id":"agent-7"})");
    ASSERT_EQ(agent.status, 201) << agent.body;
    auto c = host.request("POST", kTickets + "2/comments",
                          R"({"author_id":"user-1","body":"ping @[Coder](agent-7) and @[Ghost](nobody) see #1, not C#1 or `#1 @[Coder](agent-7)` or #999"})");
    ASSERT_EQ(c.status, 201) << c.body;
    auto cid = std::to_string(c.json()->getValue<int>("id"));
    EXPECT_FALSE(c.json()->getValue<bool>("is_edited"));
    EXPECT_EQ(c.json()->getObject("author")->getValue<std::string>("id"), "user-1");
    auto mentions = host.request("GET", "/api/comments/" + cid + "/mentions").jsonArray();
    ASSERT_EQ(mentions->size(), 2u);
    EXPECT_EQ(mentions->getObject(0)->getValue<std::string>("mention_type"), "profile");
    EXPECT_EQ(mentions->getObject(0)->getValue<std::string>("mentioned_profile_id"), "agent-7");
    EXPECT_EQ(mentions->getObject(1)->getValue<std::string>("mention_type"), "ticket");
    EXPECT_EQ(mentions->getObject(1)->getValue<int>("mentioned_ticket_number"), 1);
    auto types = eventTypes();
    EXPECT_EQ(std::count(types.begin(), types.end(), "mention.created"), 2);
    // the cross-reference shows on the referenced ticket's timeline
    auto tl = host.request("GET", kTickets + "1/timeline").json();
    ASSERT_EQ(tl->getValue<int>("total"), 2);  // ticket.created + mention
    EXPECT_EQ(tl->getArray("items")->getObject(1)->getObject("data")->getValue<std::string>("event_type"), "mention.created");

    // replies: parent must be on the same ticket
    auto reply = host.request("POST", kTickets + "2/comments", R"({"author_id":"user-1","body":"reply","parent_id":)" + cid + "}");
    EXPECT_EQ(reply.status, 201);
    EXPECT_EQ(host.request("POST", kTickets + "1/comments", R"({"author_id":"user-1","body":"x","parent_id":)" + cid + "}").status, 400);
    EXPECT_EQ(host.request("POST", kTickets + "1/comments", R"({"author_id":"user-1","body":"  "})").status, 400);
    EXPECT_EQ(host.request("GET", kTickets + "2/comments?parent_id=null").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", kTickets + "2/comments?parent_id=" + cid).jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", kTickets + "2/comments").jsonArray()->size(), 2u);

    // edit: re-parsed, only new mentions become events
    auto e = host.request("PATCH", "/api/comments/" + cid, R"x({"body":"now only @[Coder](agent-7) and @[U](user-1)"})x");
    ASSERT_EQ(e.status, 200);
    EXPECT_TRUE(e.json()->getValue<bool>("is_edited"));
    EXPECT_EQ(host.request("GET", "/api/comments/" + cid + "/mentions").jsonArray()->size(), 2u);
    types = eventTypes();
    EXPECT_EQ(std::count(types.begin(), types.end(), "mention.created"), 3);
    EXPECT_EQ(std::count(types.begin(), types.end(), "comment.edited"), 1);
    EXPECT_EQ(host.request("DELETE", "/api/comments/" + cid).status, 204);
    EXPECT_EQ(host.request("GET", "/api/comments/" + cid).status, 404);
    EXPECT_EQ(host.request("GET", "/api/comments/" + cid + "/mentions").status, 404);
    // the reply became top level
    EXPECT_EQ(host.request("GET", kTickets + "2/comments?parent_id=null").jsonArray()->size(), 1u);
}

TEST_F(TicketsTest, ClaimsConflictExpiryExtendAndForce) {
    create("Claim me");
    host.request("POST", "/api/profiles", R"({"type":"agent","name":"A","id":"a"})");
    host.request("POST", "/api/profiles", R"({"type":"agent","name":"B","id":"b"})");
    auto c1 = host.request("POST", kTickets + "1/claim", R"({"claimer_id":"a","duration_minutes":30})");
    ASSERT_EQ(c1.status, 200) << c1.body;
    EXPECT_EQ(c1.json()->getValue<std::string>("claimed_by_id"), "a");
    EXPECT_FALSE(c1.json()->isNull("claim_expires_at"));
    auto c2 = host.request("POST", kTickets + "1/claim", R"({"claimer_id":"b"})");
    EXPECT_EQ(c2.status, 409);
    EXPECT_EQ(c2.json()->getObject("ticket")->getValue<std::string>("claimed_by_id"), "a");
    EXPECT_FALSE(c2.json()->getValue<bool>("success"));
    EXPECT_EQ(host.request("POST", kTickets + "1/claim", R"({})").status, 400);
    EXPECT_EQ(host.request("POST", kTickets + "1/claim", R"({"claimer_id":"a","duration_minutes":0})").status, 400);

    auto ext = host.request("POST", kTickets + "1/claim/extend", R"({"additional_minutes":15})");
    ASSERT_EQ(ext.status, 200) << ext.body;
    EXPECT_GT(ext.json()->getValue<std::string>("claim_expires_at"), c1.json()->getValue<std::string>("claim_expires_at"));
    EXPECT_EQ(host.request("POST", kTickets + "1/claim/extend", R"({})").status, 400);
    EXPECT_EQ(host.request("POST", kTickets + "1/unclaim", R"({"claimer_id":"b"})").status, 409);
    EXPECT_EQ(host.request("GET", "/api/tickets?claimed_by_id=a").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/tickets?unclaimed=true").jsonArray()->size(), 0u);

    // the claim expires: listed as expired, claimable by someone else
    sql("UPDATE tickets_items SET claim_expires_at = '2000-01-01T00:00:00.000Z'");
    EXPECT_EQ(host.request("GET", "/api/tickets?expired_claims=true").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/tickets?unclaimed=true").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("POST", kTickets + "1/claim/extend", R"({"additional_minutes":5})").status, 409);
    auto c3 = host.request("POST", kTickets + "1/claim", R"({"claimer_id":"b"})");
    ASSERT_EQ(c3.status, 200);
    EXPECT_EQ(c3.json()->getValue<std::string>("claimed_by_id"), "b");
    EXPECT_TRUE(c3.json()->isNull("claim_expires_at"));
    EXPECT_EQ(host.request("POST", kTickets + "1/unclaim", R"({"claimer_id":"a"})").status, 409);
    auto forced = host.request("POST", kTickets + "1/unclaim", R"({"claimer_id":"a","force":true})");
    ASSERT_EQ(forced.status, 200);
    EXPECT_TRUE(forced.json()->isNull("claimed_by_id"));
    EXPECT_EQ(host.request("POST", kTickets + "1/unclaim", R"({})").status, 409);
    auto types = eventTypes();
    EXPECT_EQ(std::count(types.begin(), types.end(), "ticket.claimed"), 2);
    EXPECT_EQ(std::count(types.begin(), types.end(), "ticket.unclaimed"), 1);
}

TEST_F(TicketsTest, TimelineOrderingPagingAndEvents) {
    create("Timeline");
    host.request("POST", kTickets + "1/comments", R"({"author_id":"user-1","body":"one"})");
    host.request("PATCH", kTickets + "1", R"({"status":"in_progress"})");
    host.request("POST", kTickets + "1/comments", R"({"author_id":"user-1","body":"two"})");
    host.request("PATCH", kTickets + "1", R"({"status":"closed"})");
    auto tl = host.request("GET", kTickets + "1/timeline").json();
    ASSERT_EQ(tl->getValue<int>("total"), 5);
    auto items = tl->getArray("items");
    ASSERT_EQ(items->size(), 5u);
    std::vector<std::string> kinds;
    for (size_t i = 0; i < items->size(); ++i) {
        auto it = items->getObject(static_cast<unsigned>(i));
        kinds.push_back(it->getValue<std::string>("type") == "comment" ? "c:" + it->getObject("data")->getValue<std::string>("body")
                                                                          : "e:" + it->getObject("data")->getValue<std::string>("event_type"));
        if (i) {
            EXPECT_GE(it->getValue<std::string>("timestamp"), items->getObject(static_cast<unsigned>(i - 1))->getValue<std::string>("timestamp"));
        }
    }
    EXPECT_EQ(kinds, (std::vector<std::string>{"e:ticket.created", "c:one", "e:ticket.updated", "c:two", "e:ticket.closed"}));
    auto page = host.request("GET", kTickets + "1/timeline?limit=2&offset=2").json();
    EXPECT_EQ(page->getValue<int>("total"), 5);
    ASSERT_EQ(page->getArray("items")->size(), 2u);
    EXPECT_EQ(page->getArray("items")->getObject(0)->getObject("data")->getValue<std::string>("event_type"), "ticket.updated");
    auto events = host.request("GET", kTickets + "1/events").jsonArray();
    ASSERT_EQ(events->size(), 5u);  // incl. both comment.added
    EXPECT_EQ(events->getObject(0)->getObject("actor")->getValue<std::string>("id"), "user-1");
    EXPECT_EQ(events->getObject(0)->getValue<std::string>("created_at").back(), 'Z');
}

TEST_F(TicketsTest, ActivityEntriesCarryTheirTicketsProjectAndTheirOwnTime) {
    // Entries no longer store the project or the time: both come back as they were recorded,
    // for a ticket's own events and for a #n reference recorded on the referenced ticket.
    create("Target");
    create("Source");
    ASSERT_EQ(host.request("POST", kTickets + "2/comments", R"({"author_id":"user-1","body":"see #1"})").status, 201);
    auto events = host.request("GET", kTickets + "1/events").jsonArray();
    auto tl = host.request("GET", kTickets + "1/timeline").json()->getArray("items");
    ASSERT_EQ(events->size(), 2u);  // ticket.created, mention.created
    ASSERT_EQ(tl->size(), 2u);
    EXPECT_EQ(events->getObject(1)->getValue<std::string>("event_type"), "mention.created");
    EXPECT_EQ(events->getObject(1)->getValue<int>("ticket_number"), 2);  // the source ticket's
    for (size_t i = 0; i < events->size(); ++i) {
        auto e = events->getObject(static_cast<unsigned>(i));
        EXPECT_EQ(e->getValue<std::string>("project_id"), kAlphaId);
        auto at = e->getValue<std::string>("created_at");
        EXPECT_EQ(at.size(), 24u) << at;  // YYYY-MM-DDTHH:MM:SS.mmmZ
        EXPECT_EQ(at, tl->getObject(static_cast<unsigned>(i))->getValue<std::string>("timestamp"));
        EXPECT_EQ(at, tl->getObject(static_cast<unsigned>(i))->getObject("data")->getValue<std::string>("created_at"));
    }
    EXPECT_LE(events->getObject(0)->getValue<std::string>("created_at"),
              events->getObject(1)->getValue<std::string>("created_at"));
}

TEST_F(TicketsTest, LabelsAndMilestones) {
    create("L1");
    create("L2", R"(,"status":"closed")");
    EXPECT_EQ(host.request("POST", "/api/projects/alpha/labels", R"({"name":"x","color":"red"})").status, 400);
    auto bug = host.request("POST", "/api/projects/alpha/labels", R"({"name":"bug","color":"#aa0000","description":"Bugs"})");
    ASSERT_EQ(bug.status, 201);
    EXPECT_EQ(host.request("POST", "/api/projects/alpha/labels", R"({"name":"bug"})").status, 409);
    auto feat = host.request("POST", "/api/projects/alpha/labels", R"({"name":"feature"})").json();
    EXPECT_EQ(feat->getValue<std::string>("color"), "#808080");
    auto bid = std::to_string(bug.json()->getValue<int>("id"));
    auto fid = std::to_string(feat->getValue<int>("id"));
    host.request("POST", kTickets + "1/labels/" + bid, "");
    host.request("POST", kTickets + "2/labels/" + bid, "");
    host.request("POST", kTickets + "2/labels/" + fid, "");
    auto byUsage = host.request("GET", "/api/projects/alpha/labels?sort=usage").jsonArray();
    EXPECT_EQ(byUsage->getObject(0)->getValue<std::string>("name"), "bug");
    EXPECT_EQ(byUsage->getObject(0)->getValue<int>("usage_count"), 2);
    auto openUsage = host.request("GET", "/api/projects/alpha/labels?sort=usage&usage_scope=open").jsonArray();
    EXPECT_EQ(openUsage->getObject(0)->getValue<int>("usage_count"), 1);
    EXPECT_EQ(host.request("GET", "/api/projects/alpha/labels?search=FEA").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("PATCH", "/api/labels/" + fid, R"({"is_enabled":false})").json()->getValue<bool>("is_enabled"), false);
    EXPECT_EQ(host.request("GET", "/api/projects/alpha/labels?is_enabled=true").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", kTickets + "2/labels").jsonArray()->size(), 2u);
    EXPECT_EQ(host.request("DELETE", kTickets + "2/labels/" + fid, R"({"removed_by_id":"user-1"})").status, 204);
    EXPECT_EQ(host.request("DELETE", kTickets + "2/labels/" + fid, "").status, 404);
    EXPECT_EQ(host.request("GET", "/api/labels/" + bid + "/triggers").body, "[]");
    EXPECT_EQ(host.request("GET", "/api/projects/alpha/smart-label-ids").body, "[]");
    EXPECT_EQ(host.request("DELETE", "/api/labels/" + bid).status, 204);
    EXPECT_EQ(host.request("GET", kTickets + "1/labels").jsonArray()->size(), 0u);
    // a label of another project cannot be attached
    auto betaLabel = host.request("POST", "/api/projects/beta/labels", R"({"name":"b"})").json();
    EXPECT_EQ(host.request("POST", kTickets + "1/labels/" + std::to_string(betaLabel->getValue<int>("id")), "").status, 400);

    auto m = host.request("POST", "/api/projects/alpha/milestones", R"({"title":"v1","due_date":"2027-01-31"})");
    ASSERT_EQ(m.status, 201) << m.body;
    EXPECT_EQ(host.request("POST", "/api/projects/alpha/milestones", R"({"title":"v2","due_date":"soon"})").status, 400);
    auto mid = std::to_string(m.json()->getValue<int>("id"));
    host.request("PATCH", kTickets + "1", R"({"milestone_id":)" + mid + "}");
    host.request("PATCH", kTickets + "2", R"({"milestone_id":)" + mid + "}");
    auto got = host.request("GET", "/api/milestones/" + mid).json();
    EXPECT_EQ(got->getValue<int>("open_count"), 1);
    EXPECT_EQ(got->getValue<int>("closed_count"), 1);
    EXPECT_EQ(got->getValue<int>("total_count"), 2);
    EXPECT_EQ(host.request("GET", "/api/tickets?milestone_id=" + mid).jsonArray()->size(), 2u);
    EXPECT_EQ(host.request("PATCH", "/api/milestones/" + mid, R"({"status":"closed","description":null})").json()->getValue<std::string>("status"), "closed");
    EXPECT_EQ(host.request("GET", "/api/projects/alpha/milestones?status=open").jsonArray()->size(), 0u);
    EXPECT_EQ(host.request("DELETE", "/api/milestones/" + mid).status, 204);
    EXPECT_TRUE(host.request("GET", kTickets + "1").json()->isNull("milestone_id"));
    auto types = eventTypes();
    EXPECT_NE(std::find(types.begin(), types.end(), "milestone.created"), types.end());
    EXPECT_EQ(std::count(types.begin(), types.end(), "label.added"), 3);
    EXPECT_EQ(std::count(types.begin(), types.end(), "label.removed"), 1);
}

TEST_F(TicketsTest, ProfilesAndSettings) {
    auto u = host.request("GET", "/api/profiles/user-1");
    ASSERT_EQ(u.status, 200);
    EXPECT_EQ(u.json()->getValue<std::string>("type"), "user");
    auto a = host.request("POST", "/api/profiles", R"({"type":"agent","name":"Reviewer","email":"r@x.dev"})");
    ASSERT_EQ(a.status, 201);
    auto id = a.json()->getValue<std::string>("id");
    EXPECT_TRUE(atelier::isUuid(id));
    EXPECT_EQ(host.request("POST", "/api/profiles", R"({"type":"robot","name":"x"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/profiles", R"({"type":"user","name":"y","email":"r@x.dev"})").status, 409);
    EXPECT_EQ(host.request("POST", "/api/profiles", R"({"type":"user","name":"y","id":"user-1"})").status, 409);
    EXPECT_EQ(host.request("GET", "/api/profiles?type=agent&search=review").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("PATCH", "/api/profiles/" + id, R"({"name":"Reviewer 2"})").json()->getValue<std::string>("name"), "Reviewer 2");
    EXPECT_EQ(host.request("DELETE", "/api/profiles/" + id).status, 204);
    EXPECT_FALSE(host.request("GET", "/api/profiles/" + id).json()->getValue<bool>("is_active"));
    EXPECT_EQ(host.request("GET", "/api/profiles?is_active=false").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/profiles/nobody").status, 404);

    auto s = host.request("PUT", "/api/profile-settings", R"({"profile_id":"user-1","setting_key":"theme","setting_value":"dark"})");
    ASSERT_EQ(s.status, 200) << s.body;
    EXPECT_EQ(s.json()->getValue<std::string>("setting_value"), "dark");
    host.request("PUT", "/api/profile-settings", R"({"profile_id":"user-1","setting_key":"theme","setting_value":"light"})");
    EXPECT_EQ(host.request("GET", "/api/profiles/user-1/settings/theme").json()->getValue<std::string>("setting_value"), "light");
    EXPECT_EQ(host.request("GET", "/api/profiles/user-1/settings").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("PUT", "/api/profile-settings", R"({"profile_id":"ghost","setting_key":"k","setting_value":"v"})").status, 404);
    EXPECT_EQ(host.request("PUT", "/api/profile-settings", R"({"profile_id":"user-1","setting_key":"k"})").status, 400);
    EXPECT_EQ(host.request("DELETE", "/api/profiles/user-1/settings/theme").status, 204);
    EXPECT_EQ(host.request("GET", "/api/profiles/user-1/settings/theme").status, 404);
}

class VetoModule : public atelier::Module {
public:
    void init() override {
        hook("ticket.before_update", 10, [](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            auto changes = o->getObject("changes");
            if (changes->has("title") && changes->getValue<std::string>("title") == "forbidden")
                return atelier::HookOutcome::veto("titles like that are not allowed");
            if (changes->has("title") && changes->getValue<std::string>("title") == "shout") {
                changes->set("title", "SHOUT");
                return atelier::HookOutcome::replace(o);
            }
            return atelier::HookOutcome::keep();
        });
    }
};

TEST_F(TicketsTest, BeforeUpdateHookAndProfileLookup) {
    host.load(fakes::entryFor<VetoModule>("veto"));
    create("Hooked");
    auto v = host.request("PATCH", kTickets + "1", R"({"title":"forbidden"})");
    EXPECT_EQ(v.status, 422);
    EXPECT_NE(v.body.find("not allowed"), std::string::npos);
    EXPECT_EQ(host.request("GET", kTickets + "1").json()->getValue<std::string>("title"), "Hooked");
    EXPECT_EQ(host.request("PATCH", kTickets + "1", R"({"title":"shout"})").json()->getValue<std::string>("title"), "SHOUT");

    std::string out;
    atelier_module_ctx ctx{&host, "test", "", "{}"};
    int rc = host.api()->hook_run(&ctx, atelier::str("profiles.lookup"), atelier::str(R"({"actorId":"user-1","actor":null})"),
                                  atelier::appendSink, &out);
    EXPECT_EQ(rc, ATELIER_OK);
    EXPECT_EQ(atelier::parseObject(out)->getObject("actor")->getValue<std::string>("name"), "User");
}

}  // namespace
