// OpenKit local tasks and notes, and attachments, over the fake host.
#include "fakes.hpp"

#include <filesystem>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

using atelier::JsonObject;
using atelier::testing::FakeHost;
namespace fs = std::filesystem;

const std::string kTickets = "/api/projects/alpha/tickets/by-number/";

class OpenKitTest : public ::testing::Test {
protected:
    void SetUp() override {
        fakes::configPrefix() = "LOCAL";
        fakes::FakeWorktrees::store().clear();
        host.load(fakes::entryFor<fakes::FakeProjects>("projects"));
        host.load(atelier_module_entry_v1());
    }
    FakeHost host;
};

TEST_F(OpenKitTest, TasksMapOntoTicketsBothWays) {
    auto r = host.request("POST", "/api/tasks", R"({"title":"My task","description":"Details","priority":"high","labels":["frontend","urgent"]})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_TRUE(r.json()->getValue<bool>("success"));
    auto task = r.json()->getObject("task");
    EXPECT_EQ(task->getValue<std::string>("id"), "LOCAL-1");
    EXPECT_EQ(task->getValue<std::string>("status"), "todo");
    EXPECT_EQ(task->getValue<std::string>("priority"), "high");
    EXPECT_EQ(task->getArray("labels")->size(), 2u);
    EXPECT_TRUE(task->isNull("linkedWorktreeId"));
    EXPECT_EQ(task->getValue<int>("attachmentCount"), 0);

    // visible as a ticket
    auto t = host.request("GET", kTickets + "1").json();
    EXPECT_EQ(t->getValue<std::string>("title"), "My task");
    EXPECT_EQ(t->getValue<std::string>("body"), "Details");
    EXPECT_EQ(t->getValue<int>("priority"), 3);
    EXPECT_EQ(t->getValue<std::string>("status"), "open");
    EXPECT_EQ(t->getArray("labels")->size(), 2u);

    // ticket change shows on the task
    host.request("PATCH", kTickets + "1", R"({"status":"in_progress","priority":1})");
    auto g = host.request("GET", "/api/tasks/local-1").json()->getObject("task");
    EXPECT_EQ(g->getValue<std::string>("status"), "in-progress");
    EXPECT_EQ(g->getValue<std::string>("priority"), "low");
    EXPECT_TRUE(g->getArray("attachments"));

    // task change shows on the ticket
    auto p = host.request("PATCH", "/api/tasks/LOCAL-1", R"({"status":"done","priority":"medium","labels":["backend"]})");
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(p.json()->getObject("task")->getValue<std::string>("status"), "done");
    t = host.request("GET", kTickets + "1").json();
    EXPECT_EQ(t->getValue<std::string>("status"), "closed");
    EXPECT_EQ(t->getValue<int>("priority"), 2);
    EXPECT_EQ(t->getArray("labels")->size(), 1u);
    EXPECT_EQ(t->getArray("labels")->getObject(0)->getValue<std::string>("name"), "backend");

    // a ticket created through Kombuse is a task too
    host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1","title":"From kombuse","status":"blocked"})");
    auto list = host.request("GET", "/api/tasks").json()->getArray("tasks");
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ(list->getObject(1)->getValue<std::string>("id"), "LOCAL-2");
    EXPECT_EQ(list->getObject(1)->getValue<std::string>("status"), "todo");

    // validation, unknown ids, monotonic ids after delete
    EXPECT_EQ(host.request("POST", "/api/tasks", R"({"priority":"high"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/tasks", R"({"title":"x","priority":"urgent"})").status, 400);
    EXPECT_EQ(host.request("PATCH", "/api/tasks/LOCAL-1", R"({"status":"doing"})").status, 400);
    auto nf = host.request("GET", "/api/tasks/LOCAL-99");
    EXPECT_EQ(nf.status, 404);
    EXPECT_EQ(nf.json()->getValue<std::string>("error"), "Task not found");
    EXPECT_EQ(host.request("GET", "/api/tasks/OTHER-1").status, 404);
    EXPECT_EQ(host.request("DELETE", "/api/tasks/LOCAL-2").json()->getValue<bool>("success"), true);
    EXPECT_EQ(host.request("DELETE", "/api/tasks/LOCAL-2").status, 404);
    EXPECT_EQ(host.request("POST", "/api/tasks", R"({"title":"Next"})").json()->getObject("task")->getValue<std::string>("id"), "LOCAL-3");
    // per active project
    EXPECT_EQ(host.request("GET", "/api/tasks?project=beta").json()->getArray("tasks")->size(), 0u);
    EXPECT_EQ(host.request("GET", "/api/tasks", "", {{"X-Atelier-Project", "beta"}}).json()->getArray("tasks")->size(), 0u);
}

TEST_F(OpenKitTest, PrefixComesFromProjectConfig) {
    fakes::configPrefix() = "ACME";
    host.load(fakes::entryFor<fakes::FakeConfig>("config"));
    auto r = host.request("POST", "/api/tasks", R"({"title":"Prefixed"})");
    EXPECT_EQ(r.json()->getObject("task")->getValue<std::string>("id"), "ACME-1");
    EXPECT_EQ(host.request("GET", "/api/tasks/acme-1").status, 200);
    EXPECT_EQ(host.request("GET", "/api/tasks/LOCAL-1").status, 404);
}

TEST_F(OpenKitTest, CreateWorktreeCreatesThenReusesAndRecoverLocal) {
    auto noModule = host.request("POST", "/api/tasks", R"({"title":"Build the thing"})");
    ASSERT_EQ(noModule.status, 201);
    auto absent = host.request("POST", "/api/tasks/LOCAL-1/create-worktree");
    EXPECT_EQ(absent.status, 503);
    EXPECT_EQ(absent.json()->getValue<std::string>("code"), "WORKTREES_UNAVAILABLE");

    host.load(fakes::entryFor<fakes::FakeWorktrees>("worktrees"));
    auto c = host.request("POST", "/api/tasks/LOCAL-1/create-worktree?project=alpha");
    ASSERT_EQ(c.status, 201) << c.body;
    EXPECT_FALSE(c.json()->getValue<bool>("reusedExisting"));
    EXPECT_EQ(c.json()->getObject("worktree")->getValue<std::string>("id"), "LOCAL-1");
    EXPECT_EQ(c.json()->getObject("worktree")->getValue<std::string>("branch"), "local-1-build-the-thing");
    EXPECT_EQ(fakes::FakeWorktrees::lastProjectHeader(), fakes::kAlphaId);
    EXPECT_EQ(host.request("GET", "/api/tasks/LOCAL-1").json()->getObject("task")->getValue<std::string>("linkedWorktreeId"), "LOCAL-1");
    EXPECT_EQ(host.request("GET", "/api/notes/local/local-1").json()->getValue<std::string>("linkedWorktreeId"), "LOCAL-1");
    auto again = host.request("POST", "/api/tasks/LOCAL-1/create-worktree", R"({"branch":"custom"})");
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_TRUE(again.json()->getValue<bool>("reusedExisting"));
    EXPECT_EQ(again.json()->getValue<std::string>("worktreeId"), "LOCAL-1");
    EXPECT_EQ(again.json()->getValue<std::string>("worktreePath"), "/tmp/wt/LOCAL-1");
    EXPECT_EQ(host.request("POST", "/api/tasks/LOCAL-1/create-worktree", R"({"branch":"../evil"})").status, 400);

    // recover-local: the worktree exists, the task is gone
    fakes::FakeWorktrees::store()["LOCAL-7"] = "local-7";
    EXPECT_EQ(host.request("POST", "/api/tasks/recover-local", R"({"taskId":"bad"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/tasks/recover-local", R"({"taskId":"LOCAL-8"})").status, 404);
    auto rec = host.request("POST", "/api/tasks/recover-local", R"({"taskId":"LOCAL-7","labels":["bugfix"]})");
    ASSERT_EQ(rec.status, 201) << rec.body;
    EXPECT_EQ(rec.json()->getObject("task")->getValue<std::string>("id"), "LOCAL-7");
    EXPECT_EQ(rec.json()->getObject("task")->getValue<std::string>("title"), "Recovered task LOCAL-7");
    EXPECT_EQ(rec.json()->getValue<std::string>("linkedWorktreeId"), "LOCAL-7");
    EXPECT_EQ(host.request("POST", "/api/tasks/recover-local", R"({"taskId":"LOCAL-7"})").status, 409);
    // the counter moved past the recovered number
    EXPECT_EQ(host.request("POST", "/api/tasks", R"({"title":"After"})").json()->getObject("task")->getValue<std::string>("id"), "LOCAL-8");
}

TEST_F(OpenKitTest, NotesSectionsTodosAndGitPolicy) {
    auto n = host.request("GET", "/api/notes/jira/PROJ-1").json();
    EXPECT_TRUE(n->isNull("personal"));
    EXPECT_EQ(n->getArray("todos")->size(), 0u);
    EXPECT_EQ(n->getObject("gitPolicy")->getValue<std::string>("agentCommits"), "inherit");
    auto p = host.request("PUT", "/api/notes/jira/PROJ-1", R"({"section":"personal","content":"My notes"})").json();
    EXPECT_EQ(p->getObject("personal")->getValue<std::string>("content"), "My notes");
    EXPECT_EQ(p->getObject("personal")->getValue<std::string>("updatedAt").back(), 'Z');
    host.request("PUT", "/api/notes/jira/PROJ-1", R"({"section":"aiContext","content":"ctx"})");
    EXPECT_EQ(host.request("PUT", "/api/notes/jira/PROJ-1", R"({"section":"other","content":"x"})").status, 400);
    EXPECT_EQ(host.request("GET", "/api/notes/github/1").status, 400);
    auto t = host.request("POST", "/api/notes/jira/PROJ-1/todos", R"({"text":"Implement"})").json();
    auto todos = t->getArray("todos");
    ASSERT_EQ(todos->size(), 1u);
    auto tid = todos->getObject(0)->getValue<std::string>("id");
    EXPECT_FALSE(todos->getObject(0)->getValue<bool>("checked"));
    auto u = host.request("PATCH", "/api/notes/jira/PROJ-1/todos/" + tid, R"({"checked":true,"text":"Done it"})").json();
    EXPECT_TRUE(u->getArray("todos")->getObject(0)->getValue<bool>("checked"));
    EXPECT_EQ(u->getArray("todos")->getObject(0)->getValue<std::string>("text"), "Done it");
    EXPECT_EQ(host.request("PATCH", "/api/notes/jira/PROJ-1/todos/nope", R"({"checked":true})").status, 404);
    auto g = host.request("PATCH", "/api/notes/jira/PROJ-1/git-policy", R"({"agentCommits":"allow","agentPushes":"deny"})").json();
    EXPECT_EQ(g->getObject("gitPolicy")->getValue<std::string>("agentCommits"), "allow");
    EXPECT_EQ(g->getObject("gitPolicy")->getValue<std::string>("agentPRs"), "inherit");
    EXPECT_EQ(host.request("PATCH", "/api/notes/jira/PROJ-1/git-policy", R"({"agentCommits":"maybe"})").status, 400);
    auto d = host.request("DELETE", "/api/notes/jira/PROJ-1/todos/" + tid).json();
    EXPECT_EQ(d->getArray("todos")->size(), 0u);
    EXPECT_EQ(d->getObject("aiContext")->getValue<std::string>("content"), "ctx");
    // scoped to the active project
    EXPECT_TRUE(host.request("GET", "/api/notes/jira/PROJ-1?project=beta").json()->isNull("personal"));
}

TEST_F(OpenKitTest, AttachmentsAllowedRefusedOversizeTraversalAndDelete) {
    host.request("POST", "/api/tickets", R"({"project_id":"alpha","author_id":"user-1","title":"Files"})");
    const std::string ct = "multipart/form-data; boundary=B0undary";
    auto up = [&](const std::string& path, const std::string& name, const std::string& type, const std::string& data,
                  std::map<std::string, std::string> fields) {
        return host.request("POST", path, fakes::multipart("B0undary", name, type, data, fields), {{"Content-Type", ct}});
    };
    auto ok = up(kTickets + "1/attachments", "../../etc/shot.png", "image/png", fakes::pngBytes(), {{"uploaded_by_id", "user-1"}});
    ASSERT_EQ(ok.status, 201) << ok.body;
    auto a = ok.json();
    EXPECT_EQ(a->getValue<std::string>("filename"), "shot.png");
    EXPECT_EQ(a->getValue<std::string>("mime_type"), "image/png");
    EXPECT_EQ(a->getValue<int>("size_bytes"), static_cast<int>(fakes::pngBytes().size()));
    auto storage = a->getValue<std::string>("storage_path");
    EXPECT_EQ(storage.find(".."), std::string::npos);
    fs::path file = fs::path(host.dataDir()) / "modules" / "tickets" / storage;
    EXPECT_TRUE(fs::exists(file));
    auto aid = std::to_string(a->getValue<int>("id"));

    auto dl = host.request("GET", "/api/attachments/" + aid + "/download");
    EXPECT_EQ(dl.status, 200);
    EXPECT_EQ(dl.body, fakes::pngBytes());
    EXPECT_EQ(dl.header("Content-Type"), "image/png");
    EXPECT_EQ(dl.header("Content-Disposition"), "attachment; filename=\"shot.png\"; filename*=UTF-8''shot.png");
    EXPECT_EQ(host.request("GET", kTickets + "1/attachments").jsonArray()->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/attachments/" + aid).json()->getValue<std::string>("uploaded_by_id"), "user-1");
    // The boards product's clients download at the attachment's own path.
    auto kanban = host.request("GET", "/api/attachments/" + aid, "", {{"X-Atelier-Flavor", "kanban"}});
    EXPECT_EQ(kanban.status, 200);
    EXPECT_EQ(kanban.body, fakes::pngBytes());
    EXPECT_EQ(kanban.header("Content-Type"), "image/png");

    auto exe = up(kTickets + "1/attachments", "tool.exe", "application/x-msdownload", std::string("MZ\x90\0\3\0", 6), {{"uploaded_by_id", "user-1"}});
    EXPECT_EQ(exe.status, 400);
    EXPECT_EQ(exe.json()->getValue<std::string>("code"), "UNSUPPORTED_FILE_TYPE");
    auto liar = up(kTickets + "1/attachments", "x.png", "image/png", "just text", {{"uploaded_by_id", "user-1"}});
    EXPECT_EQ(liar.status, 400);
    std::string big = fakes::pngBytes() + std::string(10 * 1024 * 1024, 'x');
    auto huge = up(kTickets + "1/attachments", "big.png", "image/png", big, {{"uploaded_by_id", "user-1"}});
    EXPECT_EQ(huge.status, 400);
    EXPECT_EQ(huge.json()->getValue<std::string>("code"), "FILE_TOO_LARGE");
    EXPECT_EQ(up(kTickets + "1/attachments", "a.png", "image/png", fakes::pngBytes(), {}).status, 400);  // uploaded_by_id
    EXPECT_EQ(host.request("POST", kTickets + "1/attachments", "{}").status, 400);
    EXPECT_EQ(host.request("GET", kTickets + "1/attachments").jsonArray()->size(), 1u);

    // comment attachments
    auto c = host.request("POST", kTickets + "1/comments", R"({"author_id":"user-1","body":"see file"})").json();
    auto cid = std::to_string(c->getValue<int>("id"));
    EXPECT_EQ(up("/api/comments/" + cid + "/attachments", "c.gif", "image/gif", "GIF89a....", {{"uploaded_by_id", "user-1"}}).status, 201);
    EXPECT_EQ(host.request("GET", "/api/comments/" + cid + "/attachments").jsonArray()->size(), 1u);

    EXPECT_EQ(host.request("DELETE", "/api/attachments/" + aid).status, 204);
    EXPECT_FALSE(fs::exists(file));
    EXPECT_EQ(host.request("GET", "/api/attachments/" + aid).status, 404);

    // task attachments: de-duplicated names, served with a cache header
    auto t1 = up("/api/tasks/LOCAL-1/attachments", "notes.txt", "text/plain", "hello", {});
    ASSERT_EQ(t1.status, 201) << t1.body;
    EXPECT_EQ(t1.json()->getObject("attachment")->getValue<std::string>("filename"), "notes.txt");
    auto t2 = up("/api/tasks/LOCAL-1/attachments", "notes.txt", "text/plain", "again", {});
    EXPECT_EQ(t2.json()->getObject("attachment")->getValue<std::string>("filename"), "notes_1.txt");
    auto served = host.request("GET", "/api/tasks/LOCAL-1/attachments/notes_1.txt");
    EXPECT_EQ(served.body, "again");
    EXPECT_EQ(served.header("Cache-Control"), "private, max-age=3600");
    EXPECT_EQ(host.request("GET", "/api/tasks/LOCAL-1").json()->getObject("task")->getValue<int>("attachmentCount"), 2);
    EXPECT_EQ(host.request("DELETE", "/api/tasks/LOCAL-1/attachments/notes.txt").json()->getValue<bool>("success"), true);
    EXPECT_EQ(host.request("GET", "/api/tasks/LOCAL-1/attachments/notes.txt").status, 404);
    EXPECT_EQ(host.request("GET", "/api/tasks/LOCAL-1/attachments/..%2F..%2Fetc%2Fpasswd").status, 404);
    // deleting the ticket removes its files
    auto local = t2.json()->getObject("attachment")->getValue<std::string>("localPath");
    EXPECT_TRUE(fs::exists(local));
    host.request("DELETE", kTickets + "1");
    EXPECT_FALSE(fs::exists(local));
}

}  // namespace
