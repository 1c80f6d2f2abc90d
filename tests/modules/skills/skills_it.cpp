// The skills registry and custom agents over real sockets, deployed into real-looking CLI
// directories in a temporary HOME and the active project.
#include "skills_fixture.hpp"

using namespace skillsfix;

namespace {

class SkillsIt : public SkillsServer {};

TEST_F(SkillsIt, CreateDeployEditUndeployLeavesOtherFilesUntouched) {
    // Files the CLIs already have, which must survive byte for byte.
    write(fs::path(home) / ".claude/skills/theirs/SKILL.md", "---\nname: theirs\n---\nmine\n");
    write(fs::path(home) / ".claude/settings.json", "{\n  \"model\": \"opus\"\n}\n");
    write(fs::path(home) / ".codex/skills/notes.txt", "keep me\n");
    write(fs::path(repo) / ".gemini/skills/local/SKILL.md", "---\nname: local\n---\n");
    auto before = std::make_tuple(snapshot(fs::path(home) / ".claude"), snapshot(fs::path(home) / ".codex"),
                                  snapshot(fs::path(repo) / ".gemini"));

    HttpResult r;
    post("/api/skills",
         R"({"name":"code-review","description":"Reviews: diffs","allowedTools":"Read, Grep","model":"sonnet",)"
         R"("userInvocable":true,"disableModelInvocation":false,"mode":true,"instructions":"# Review\nDo it.\n"})",
         201, &r);
    EXPECT_EQ(r.json()->getObject("skill")->getValue<std::string>("name"), "code-review");
    fs::path dir = fs::path(server->dataDir()) / "skills/code-review";
    std::string md = read(dir / "SKILL.md");
    // Keys in the documented order, unset ones (user-invocable true, false flags) left out.
    EXPECT_EQ(md,
              "---\nname: code-review\ndescription: \"Reviews: diffs\"\nallowed-tools: Read, Grep\nmodel: "
              "sonnet\nmode: true\n---\n\n# Review\nDo it.\n");
    post("/api/skills", R"({"name":"code-review"})", 409);

    for (auto t : {R"({"agent":"claude","scope":"global"})", R"({"agent":"codex","scope":"global"})",
                   R"({"agent":"gemini","scope":"project"})"})
        post("/api/skills/code-review/deploy", t, 200);
    post("/api/skills/code-review/deploy", R"({"agent":"claude","scope":"global"})", 200);  // idempotent
    fs::path claudeLink = fs::path(home) / ".claude/skills/code-review";
    ASSERT_TRUE(fs::is_symlink(claudeLink));
    EXPECT_FALSE(fs::read_symlink(claudeLink).is_absolute()) << "links are relative";
    EXPECT_EQ(fs::canonical(claudeLink), fs::canonical(dir));
    EXPECT_TRUE(fs::is_symlink(fs::path(repo) / ".gemini/skills/code-review"));

    auto status = server->get("/api/skills/deployment-status");
    ASSERT_EQ(status.status, 200) << status.body;
    auto s = status.json()->getObject("status")->getObject("code-review");
    ASSERT_TRUE(s) << status.body;
    EXPECT_TRUE(s->getValue<bool>("inRegistry"));
    auto agents = s->getObject("agents");
    EXPECT_TRUE(agents->getObject("claude")->getValue<bool>("global"));
    EXPECT_FALSE(agents->getObject("claude")->getValue<bool>("project"));
    EXPECT_TRUE(agents->getObject("codex")->getValue<bool>("global"));
    EXPECT_TRUE(agents->getObject("gemini")->getValue<bool>("project"));
    EXPECT_FALSE(agents->getObject("cursor")->getValue<bool>("global"));
    // A real skill directory in a project counts as deployed, registry or not.
    auto local = status.json()->getObject("status")->getObject("local");
    ASSERT_TRUE(local) << status.body;
    EXPECT_FALSE(local->getValue<bool>("inRegistry"));
    EXPECT_TRUE(local->getObject("agents")->getObject("gemini")->getValue<bool>("project"));

    // Edit: front matter merge keeps the order; the CLIs see it through their links.
    ASSERT_EQ(
        server
            ->patch(
                "/api/skills/code-review",
                R"({"frontmatter":{"description":"Reviews diffs","argument-hint":"[file]"},"referenceMd":"# Ref\n"})")
            .status,
        200);
    EXPECT_EQ(read(claudeLink / "SKILL.md"),
              "---\nname: code-review\ndescription: Reviews diffs\nallowed-tools: Read, Grep\nmodel: "
              "sonnet\nargument-hint: \"[file]\"\nmode: true\n---\n\n# Review\nDo it.\n");
    auto detail = server->get("/api/skills/code-review");
    ASSERT_EQ(detail.status, 200);
    auto sk = detail.json()->getObject("skill");
    EXPECT_TRUE(sk->getValue<bool>("hasReference"));
    EXPECT_EQ(sk->getValue<std::string>("referenceMd"), "# Ref\n");
    EXPECT_FALSE(sk->getValue<bool>("hasExamples"));
    EXPECT_EQ(sk->getObject("frontmatter")->getValue<bool>("mode"), true);
    EXPECT_EQ(sk->getObject("frontmatter")->getValue<std::string>("argument-hint"), "[file]");
    ASSERT_EQ(server->patch("/api/skills/code-review", R"({"referenceMd":""})").status, 200);
    EXPECT_FALSE(fs::exists(dir / "reference.md"));
    std::string beforeBroken = read(dir / "SKILL.md");
    EXPECT_EQ(server->patch("/api/skills/code-review", R"({"skillMd":"---\nname: [broken\n---\n"})").status, 400);
    EXPECT_EQ(read(dir / "SKILL.md"), beforeBroken) << "unchanged after a refused edit";

    for (auto t : {R"({"agent":"claude","scope":"global"})", R"({"agent":"codex","scope":"global"})",
                   R"({"agent":"gemini","scope":"project"})"})
        post("/api/skills/code-review/undeploy", t, 200);
    EXPECT_EQ(before, std::make_tuple(snapshot(fs::path(home) / ".claude"), snapshot(fs::path(home) / ".codex"),
                                      snapshot(fs::path(repo) / ".gemini")));

    // Deleting removes the registry entry and any remaining link.
    post("/api/skills/code-review/deploy", R"({"agent":"cursor","scope":"global"})", 200);
    ASSERT_EQ(server->del("/api/skills/code-review").status, 200);
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_FALSE(fs::exists(fs::symlink_status(fs::path(home) / ".cursor/skills/code-review")));
    EXPECT_EQ(server->get("/api/skills/code-review").status, 404);
}

TEST_F(SkillsIt, RefusesBadInput) {
    EXPECT_EQ(server->post("/api/skills", R"({"name":"../../etc"})").status, 400);
    EXPECT_EQ(server->post("/api/skills", R"({"name":"a/b"})").status, 400);
    EXPECT_EQ(server->post("/api/skills", R"({"name":42})").status, 400);
    EXPECT_EQ(server->post("/api/skills", R"({"description":"no name"})").status, 400);
    EXPECT_EQ(server->post("/api/skills", R"({"name":"x","mode":"yes"})").status, 400);
    auto bad = server->post("/api/skills", "{not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(code(bad), "INVALID_JSON");
    EXPECT_EQ(server->get("/api/skills/..%2F..%2Fetc").status / 100, 4);
    EXPECT_EQ(server->get("/api/skills/Upper").status, 400);
    post("/api/skills", R"({"name":"ok"})", 201);
    auto r = server->post("/api/skills/ok/deploy", R"({"agent":"emacs","scope":"global"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(code(r), "VALIDATION_ERROR");
    EXPECT_EQ(server->post("/api/skills/ok/deploy", R"({"agent":"claude","scope":"everywhere"})").status, 400);
    EXPECT_EQ(server->post("/api/skills/missing/deploy", R"({"agent":"claude"})").status, 404);
    // A real directory of the same name belongs to someone else: not replaced, not removed.
    write(fs::path(home) / ".claude/skills/ok/SKILL.md", "theirs");
    EXPECT_EQ(server->post("/api/skills/ok/deploy", R"({"agent":"claude","scope":"global"})").status, 409);
    EXPECT_EQ(server->post("/api/skills/ok/undeploy", R"({"agent":"claude","scope":"global"})").status, 409);
    EXPECT_EQ(read(fs::path(home) / ".claude/skills/ok/SKILL.md"), "theirs");
    EXPECT_EQ(server->post("/api/skills/scan", R"({"mode":"folder","scanPath":"relative/path"})").status, 400);
    EXPECT_EQ(server->post("/api/skills/import", R"({"skills":[{"name":"x","skillPath":"/nonexistent"}]})").status,
              400);
}

TEST_F(SkillsIt, ScanAndImport) {
    write(fs::path(repo) / ".claude/skills/found/SKILL.md", "---\nname: found\ndescription: Found one\n---\nbody\n");
    write(fs::path(repo) / ".claude/skills/found/examples.md", "ex\n");
    write(fs::path(repo) / "node_modules/pkg/skills/hidden/SKILL.md", "---\nname: hidden\n---\n");
    HttpResult r;
    post("/api/skills/scan", R"({"mode":"project"})", 200, &r);
    auto d = r.json()->getArray("discovered");
    ASSERT_EQ(d->size(), 1u) << r.body;
    auto f = d->getObject(0);
    EXPECT_EQ(f->getValue<std::string>("name"), "found");
    EXPECT_EQ(f->getValue<std::string>("description"), "Found one");
    EXPECT_FALSE(f->getValue<bool>("alreadyInRegistry"));
    std::string path = f->getValue<std::string>("skillPath");
    post("/api/skills/import", R"({"skills":[{"name":"found","skillPath":")" + path + R"("}]})", 200, &r);
    EXPECT_EQ(r.json()->getArray("imported")->size(), 1u);
    EXPECT_EQ(read(fs::path(server->dataDir()) / "skills/found/examples.md"), "ex\n");
    post("/api/skills/scan", R"({"mode":"folder","scanPath":")" + repo + R"("})", 200, &r);
    EXPECT_TRUE(r.json()->getArray("discovered")->getObject(0)->getValue<bool>("alreadyInRegistry"));
    auto list = server->get("/api/skills");
    ASSERT_EQ(list.json()->getArray("skills")->size(), 1u);
}

TEST_F(SkillsIt, InstallRunsNpxWithAnArgvVector) {
    // A stand-in npx that records its argv and installs the way `skills add` does.
    write(fs::path(bin) / "npx",
          "#!/bin/sh\n"
          "if [ \"$1\" = \"--no\" ]; then exit 0; fi\n"
          "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$HOME/npx-argv.txt\"\n"
          "mkdir -p \"$HOME/.claude/skills/lint\"\n"
          "printf -- '---\\nname: lint\\ndescription: Lints\\n---\\nRun the linter.\\n' > "
          "\"$HOME/.claude/skills/lint/SKILL.md\"\n");
    fs::permissions(fs::path(bin) / "npx", fs::perms::owner_all);
    auto av = server->get("/api/skills/npx-available");
    ASSERT_EQ(av.status, 200);
    EXPECT_TRUE(av.json()->getValue<bool>("available"));
    HttpResult r;
    post("/api/skills/install", R"({"repo":"acme/tools","skill":"lint","agents":["claude"],"scope":"global"})", 200,
         &r);
    auto installed = r.json()->getArray("installed");
    ASSERT_EQ(installed->size(), 1u) << r.body;
    EXPECT_EQ(installed->getElement<std::string>(0), "lint");
    EXPECT_EQ(read(fs::path(home) / "npx-argv.txt"),
              "--yes\nskills\nadd\nacme/tools\n-s\nlint\n-a\nclaude\n--global\n");
    EXPECT_TRUE(fs::exists(fs::path(server->dataDir()) / "skills/lint/SKILL.md"));
    // Shell metacharacters never reach a shell: they are refused outright.
    EXPECT_EQ(server->post("/api/skills/install", R"({"repo":"acme/tools; touch /tmp/pwned"})").status, 400);
    EXPECT_EQ(server->post("/api/skills/install", R"({"repo":"--help"})").status, 400);
    EXPECT_EQ(server->post("/api/skills/install", R"j({"repo":"a/b","skill":"$(id)"})j").status, 400);
}

TEST_F(SkillsIt, CustomAgentsLiveInTheAgentsStore) {
    write(fs::path(repo) / ".claude/agents/other.md", "---\nname: other\n---\nleave me\n");
    HttpResult r;
    post(
        "/api/claude/custom-agents",
        R"({"name":"reviewer","description":"Code review specialist","tools":"Read, Grep, Glob","instructions":"Review carefully.",)"
        R"("scope":"project","deployAgents":["claude","codex"]})",
        201, &r);
    auto a = r.json()->getObject("agent");
    EXPECT_EQ(a->getValue<std::string>("id"), "custom::reviewer");
    EXPECT_TRUE(a->getObject("deployments")->getObject("claude")->getValue<bool>("project"));
    std::string expected =
        "---\nname: reviewer\ndescription: Code review specialist\ntools: Read, Grep, Glob\n---\n\nReview carefully.\n";
    EXPECT_EQ(read(fs::path(repo) / ".claude/agents/reviewer.md"), expected);
    EXPECT_EQ(read(fs::path(repo) / ".codex/agents/reviewer.md"), expected);
    // One store: the agents module has it, with its source.
    auto stored = server->get("/api/agents/by-slug/reviewer");
    ASSERT_EQ(stored.status, 200) << stored.body;
    EXPECT_EQ(stored.json()->getValue<std::string>("source"), "custom");
    EXPECT_EQ(stored.json()->getValue<std::string>("system_prompt"), "Review carefully.");
    post("/api/claude/custom-agents", R"({"name":"reviewer"})", 409);

    // Editing syncs every deployed copy.
    auto p = server->patch(
        "/api/claude/custom-agents/custom::reviewer",
        R"({"content":"---\nname: reviewer\ndescription: Strict reviewer\ntools: Read\n---\n\nBe strict.\n"})");
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(read(fs::path(repo) / ".codex/agents/reviewer.md"),
              "---\nname: reviewer\ndescription: Strict reviewer\ntools: Read\n---\n\nBe strict.\n");
    EXPECT_EQ(server->get("/api/agents/by-slug/reviewer").json()->getValue<std::string>("system_prompt"), "Be strict.");

    post("/api/claude/custom-agents/custom::reviewer/deploy", R"({"agent":"cursor","scope":"global"})", 200);
    EXPECT_TRUE(fs::exists(fs::path(home) / ".cursor/agents/reviewer.md"));
    post("/api/claude/custom-agents/custom::reviewer/undeploy", R"({"agent":"codex","scope":"project"})", 200);
    EXPECT_FALSE(fs::exists(fs::path(repo) / ".codex/agents/reviewer.md"));
    auto list = server->get("/api/claude/custom-agents");
    ASSERT_EQ(list.status, 200);
    bool seen = false;
    auto arr = list.json()->getArray("agents");
    for (size_t i = 0; i < arr->size(); ++i)
        if (arr->getObject(i)->getValue<std::string>("id") == "custom::reviewer") {
            seen = true;
            EXPECT_TRUE(arr->getObject(i)->getObject("deployments")->getObject("cursor")->getValue<bool>("global"));
            EXPECT_FALSE(arr->getObject(i)->getObject("deployments")->getObject("codex")->getValue<bool>("project"));
        }
    EXPECT_TRUE(seen) << list.body;
    auto detail = server->get("/api/claude/custom-agents/custom::reviewer");
    ASSERT_EQ(detail.status, 200);
    EXPECT_EQ(detail.json()->getObject("agent")->getValue<std::string>("content"),
              "---\nname: reviewer\ndescription: Strict reviewer\ntools: Read\n---\n\nBe strict.\n");

    // Scan finds the other CLI file; import stores it with its origin and deploys it.
    post("/api/claude/custom-agents/scan", R"({"mode":"project"})", 200, &r);
    std::string otherPath;
    auto found = r.json()->getArray("discovered");
    for (size_t i = 0; i < found->size(); ++i)
        if (found->getObject(i)->getValue<std::string>("name") == "other")
            otherPath = found->getObject(i)->getValue<std::string>("agentPath");
    ASSERT_FALSE(otherPath.empty()) << r.body;
    post("/api/claude/custom-agents/import",
         R"({"scope":"global","deployAgents":["gemini"],"agents":[{"name":"other","agentPath":")" + otherPath +
             R"("}]})",
         200, &r);
    EXPECT_EQ(r.json()->getArray("imported")->size(), 1u) << r.body;
    EXPECT_EQ(server->get("/api/agents/by-slug/other").json()->getValue<std::string>("source"),
              "imported:" + otherPath);
    EXPECT_TRUE(fs::exists(fs::path(home) / ".gemini/agents/other.md"));

    ASSERT_EQ(server->del("/api/claude/custom-agents/custom::reviewer").status, 200);
    EXPECT_FALSE(fs::exists(fs::path(repo) / ".claude/agents/reviewer.md"));
    EXPECT_FALSE(fs::exists(fs::path(home) / ".cursor/agents/reviewer.md"));
    EXPECT_EQ(server->get("/api/agents/by-slug/reviewer").status, 404);
    EXPECT_EQ(read(fs::path(repo) / ".claude/agents/other.md"), "---\nname: other\n---\nleave me\n");

    EXPECT_EQ(server->post("/api/claude/custom-agents", R"({"name":"../x"})").status, 400);
    EXPECT_EQ(server->get("/api/claude/custom-agents/custom::..%2Fx").status, 400);
    EXPECT_EQ(server->get("/api/claude/custom-agents/custom::nobody").status, 404);
}

}  // namespace
