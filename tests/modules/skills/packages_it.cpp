// Kombuse agent packages over real sockets: export → install into another project, sources,
// remote installs (filesystem, git, HTTP registry), publish, files, lifecycle, and hostile
// archives (zip-slip, absolute paths, links, bombs) that must leave nothing behind.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SHA2Engine.h>
#include <archive.h>
#include <archive_entry.h>

#include <mutex>

#include "skills_fixture.hpp"

using namespace skillsfix;
using Poco::JSON::Object;

namespace {

struct Entry {
    Entry(std::string p, std::string d, int t = AE_IFREG, std::string l = {})
        : path(std::move(p)), data(std::move(d)), type(t), link(std::move(l)) {}
    std::string path;
    std::string data;
    int type;
    std::string link;
};
void writeTarGz(const fs::path& out, const std::vector<Entry>& entries) {
    archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, out.c_str());
    for (auto& e : entries) {
        archive_entry* en = archive_entry_new();
        archive_entry_set_pathname(en, e.path.c_str());
        archive_entry_set_filetype(en, static_cast<unsigned>(e.type));
        archive_entry_set_perm(en, 0644);
        if (e.type == AE_IFLNK) archive_entry_set_symlink(en, e.link.c_str());
        archive_entry_set_size(en, e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
        archive_write_header(a, en);
        if (e.type == AE_IFREG) archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}
std::string sha256(const std::string& s) {
    Poco::SHA2Engine e(Poco::SHA2Engine::SHA_256);
    e.update(s);
    return Poco::DigestEngine::digestToHex(e.digest());
}

// A package registry: POST /api/pkg/<author>/<name> stores the body, GET /api/pkg/<name> serves it.
class FakeRegistry {
public:
    FakeRegistry() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
        auto params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(2);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(this), socket_, params);
        server_->start();
    }
    ~FakeRegistry() { server_->stopAll(true); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(socket_.address().port()); }
    std::mutex mu;
    std::map<std::string, std::string> packages;  // name → tar.gz
    std::string lastAuth, lastPath;

private:
    struct Handler : Poco::Net::HTTPRequestHandler {
        explicit Handler(FakeRegistry* r) : reg(r) {}
        void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
            std::string body;
            char buf[8192];
            while (req.stream().read(buf, sizeof buf) || req.stream().gcount() > 0)
                body.append(buf, static_cast<size_t>(req.stream().gcount()));
            std::lock_guard lock(reg->mu);
            std::string path = req.getURI();
            reg->lastPath = path;
            if (req.getMethod() == "POST") {
                reg->lastAuth = req.get("Authorization", "");
                if (reg->lastAuth != "Bearer s3cret") {
                    res.setStatus(Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED);
                    res.send() << "{}";
                    return;
                }
                std::string name = path.substr(path.rfind('/') + 1);
                name = name.substr(0, name.find('?'));
                reg->packages[name] = body;
                res.setStatus(Poco::Net::HTTPResponse::HTTP_CREATED);
                res.send() << "{\"ok\":true}";
                return;
            }
            std::string name = path.substr(std::string("/api/pkg/").size());
            name = name.substr(0, name.find('?'));
            if (!reg->packages.count(name)) {
                res.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
                res.send() << "{}";
                return;
            }
            res.setContentType("application/gzip");
            res.set("X-Package-Version", "1.0.0");
            res.setContentLength(static_cast<std::streamsize>(reg->packages[name].size()));
            res.send() << reg->packages[name];
        }
        FakeRegistry* reg;
    };
    struct Factory : Poco::Net::HTTPRequestHandlerFactory {
        explicit Factory(FakeRegistry* r) : reg(r) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(reg);
        }
        FakeRegistry* reg;
    };
    Poco::Net::ServerSocket socket_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

class PackagesIt : public SkillsServer {
protected:
    void SetUp() override {
        SkillsServer::SetUp();
        if (HasFatalFailure()) return;
        other = fs::canonical(atelier::test::makeGitRepo()).string();
        // The repository the server started in is already the active project.
        projectA = server->get("/api/active-project").json()->getValue<std::string>("id");
        projectB = createProject("beta", other);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(other, ec);
        SkillsServer::TearDown();
    }
    std::string createProject(const std::string& name, const std::string& path) {
        auto r = server->post("/api/projects", R"({"name":")" + name + R"(","local_path":")" + path + R"("})");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json() ? r.json()->getValue<std::string>("id") : "";
    }
    void seedProjectA() {
        HttpResult r;
        post("/api/projects/" + projectA + "/labels", R"({"name":"bug","color":"#ff0000","description":"Broken"})",
             201);
        post("/api/projects/" + projectA + "/labels", R"({"name":"triage","color":"#00ff00"})", 201);
        post(
            "/api/agents",
            R"({"name":"Triager","slug":"triager","description":"Sorts tickets","system_prompt":"Sort the tickets.\nBe brief.",)"
            R"("project_id":")" +
                projectA +
                R"(","config":{"backend_type":"codex","enabled_for_chat":true,"max_chain_depth":3},)"
                R"("permissions":[{"type":"tool","tool":"Bash","scope":"project"}]})",
            201);
        post("/api/agents",
             R"({"name":"Coder","slug":"coder","description":"Writes code","system_prompt":"Code.","project_id":")" +
                 projectA + R"("})",
             201);
        post("/api/agents",
             R"({"name":"Global","slug":"global-helper","description":"Not in the project","system_prompt":"x"})", 201);
    }
    std::string other, projectA, projectB;
};

TEST_F(PackagesIt, ExportInstallReproducesAgentsAndLabels) {
    seedProjectA();
    write(fs::path(repo) / ".atelier/plugins/team-kit/files/presets/coder.json", "{\"mode\":\"plan\"}\n");
    HttpResult r;
    post("/api/plugins/export",
         R"({"package_name":"team-kit","project_id":")" + projectA + R"(","description":"Our agents"})", 200, &r);
    auto ex = r.json();
    EXPECT_EQ(ex->getValue<int>("agent_count"), 2) << r.body;
    EXPECT_EQ(ex->getValue<int>("label_count"), 2);
    std::string archive = ex->getValue<std::string>("archive_path");
    EXPECT_EQ(archive, repo + "/.atelier/plugins/team-kit-1.0.0.tar.gz");
    EXPECT_EQ(ex->getValue<std::string>("checksum"), sha256(read(archive)));
    EXPECT_TRUE(fs::exists(fs::path(repo) / ".atelier/plugins/team-kit/.kombuse-plugin/plugin.json"));
    auto manifest = Poco::JSON::Parser()
                        .parse(read(fs::path(repo) / ".atelier/plugins/team-kit/manifest.json"))
                        .extract<Object::Ptr>();
    EXPECT_EQ(manifest->getValue<std::string>("type"), "plugin");
    EXPECT_EQ(manifest->getObject("metadata")->getValue<int>("agent_count"), 2);
    EXPECT_TRUE(manifest->getObject("metadata")->getObject("checksums")->has("agents/triager.md"));
    EXPECT_EQ(
        server->post("/api/plugins/export", R"({"package_name":"team-kit","project_id":")" + projectA + R"("})").status,
        409);

    post("/api/plugins/install", R"({"package_path":")" + archive + R"(","project_id":")" + projectB + R"("})", 201,
         &r);
    auto in = r.json();
    EXPECT_EQ(in->getValue<int>("agents_created"), 2) << r.body;
    EXPECT_EQ(in->getValue<int>("labels_created"), 2);
    EXPECT_EQ(in->getValue<int>("labels_merged"), 0);
    EXPECT_EQ(in->getValue<int>("files_imported"), 1);
    std::string pluginId = in->getObject("plugin")->getValue<std::string>("id");

    // The agents are reproduced exactly in project B (their slugs were free in one store
    // only because install namespaces nothing: the package's agents are the project's now).
    auto labelsB = server->get("/api/projects/" + projectB + "/labels");
    ASSERT_EQ(labelsB.status, 200);
    auto lb = labelsB.jsonArray();
    ASSERT_TRUE(lb) << labelsB.body;
    std::map<std::string, std::string> colors;
    for (size_t i = 0; i < lb->size(); ++i)
        colors[lb->getObject(i)->getValue<std::string>("name")] = lb->getObject(i)->getValue<std::string>("color");
    EXPECT_EQ(colors, (std::map<std::string, std::string>{{"bug", "#ff0000"}, {"triage", "#00ff00"}}));
    auto agentsB = server->get("/api/agents?project_id=" + projectB);
    auto ab = agentsB.jsonArray();
    ASSERT_TRUE(ab);
    std::map<std::string, Object::Ptr> bySlugB;
    for (size_t i = 0; i < ab->size(); ++i)
        if (!ab->getObject(i)->isNull("project_id") &&
            ab->getObject(i)->getValue<std::string>("project_id") == projectB)
            bySlugB[ab->getObject(i)->getValue<std::string>("name")] = ab->getObject(i);
    ASSERT_EQ(bySlugB.size(), 2u) << agentsB.body;
    auto t = bySlugB["Triager"];
    EXPECT_EQ(t->getValue<std::string>("description"), "Sorts tickets");
    EXPECT_EQ(t->getValue<std::string>("system_prompt"), "Sort the tickets.\nBe brief.");
    EXPECT_EQ(t->getObject("config")->getValue<std::string>("backend_type"), "codex");
    EXPECT_EQ(t->getObject("config")->getValue<int>("max_chain_depth"), 3);
    EXPECT_TRUE(t->getObject("config")->getValue<bool>("enabled_for_chat"));
    EXPECT_EQ(t->getArray("permissions")->getObject(0)->getValue<std::string>("tool"), "Bash");
    EXPECT_EQ(t->getValue<std::string>("plugin_id"), pluginId);
    EXPECT_EQ(t->getValue<std::string>("source"), "plugin:team-kit");

    // Installed again: 409 unless overwrite, which updates in place and keeps edited files.
    auto again = server->post("/api/plugins/install",
                              R"({"package_path":")" + archive + R"(","project_id":")" + projectB + R"("})");
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(code(again), "PLUGIN_ALREADY_INSTALLED");
    auto files = server->get("/api/plugins/" + pluginId + "/files");
    ASSERT_EQ(files.status, 200);
    auto fl = files.jsonArray();
    ASSERT_EQ(fl->size(), 1u) << files.body;
    EXPECT_EQ(fl->getObject(0)->getValue<std::string>("path"), "presets/coder.json");
    std::string fileId = std::to_string(fl->getObject(0)->getValue<int>("id"));
    auto pf = server->patch("/api/plugins/" + pluginId + "/files/" + fileId, R"({"content":"{\"mode\":\"auto\"}\n"})");
    ASSERT_EQ(pf.status, 200) << pf.body;
    EXPECT_TRUE(pf.json()->getValue<bool>("is_user_modified"));
    // A field edited since the install is kept by an overwrite; the others follow the package.
    ASSERT_EQ(server
                  ->patch("/api/agents/" + t->getValue<std::string>("id"),
                          R"({"description":"Our own words","system_prompt":"x"})")
                  .status,
              200);
    ASSERT_EQ(server
                  ->patch("/api/agents/" + t->getValue<std::string>("id"),
                          R"({"system_prompt":"Sort the tickets.\nBe brief."})")
                  .status,
              200);
    post("/api/plugins/install",
         R"({"package_path":")" + archive + R"(","project_id":")" + projectB + R"(","overwrite":true})", 201, &r);
    EXPECT_EQ(r.json()->getValue<int>("agents_updated"), 2) << r.body;
    auto triager = server->get("/api/agents/" + t->getValue<std::string>("id")).json();
    EXPECT_EQ(triager->getValue<std::string>("description"), "Our own words");
    EXPECT_EQ(triager->getValue<std::string>("system_prompt"), "Sort the tickets.\nBe brief.");
    EXPECT_EQ(r.json()->getValue<int>("agents_created"), 0);
    EXPECT_EQ(r.json()->getValue<int>("labels_merged"), 2);
    EXPECT_EQ(r.json()->getValue<int>("files_preserved"), 1);
    EXPECT_EQ(server->get("/api/plugins/" + pluginId + "/files/" + fileId).json()->getValue<std::string>("content"),
              "{\"mode\":\"auto\"}\n");

    // Disable cascades; delete-mode uninstall removes the agents, keeps the labels.
    auto dis = server->patch("/api/plugins/" + pluginId, R"({"is_enabled":false})");
    ASSERT_EQ(dis.status, 200) << dis.body;
    EXPECT_FALSE(dis.json()->getValue<bool>("is_enabled"));
    EXPECT_FALSE(server->get("/api/agents/" + t->getValue<std::string>("id")).json()->getValue<bool>("is_enabled"));
    EXPECT_EQ(server->get("/api/plugins?project_id=" + projectB).jsonArray()->size(), 1u);
    EXPECT_EQ(server->del("/api/plugins/" + pluginId + "?mode=sideways").status, 400);
    EXPECT_EQ(server->del("/api/plugins/" + pluginId + "?mode=delete").status, 204);
    EXPECT_EQ(server->get("/api/agents/" + t->getValue<std::string>("id")).status, 404);
    EXPECT_EQ(server->get("/api/projects/" + projectB + "/labels").jsonArray()->size(), 2u);
    EXPECT_EQ(server->get("/api/plugins/" + pluginId).status, 404);
}

TEST_F(PackagesIt, SourcesRemoteInstallsAndPublish) {
    seedProjectA();
    HttpResult r;
    post("/api/plugins/export", R"({"package_name":"team-kit","project_id":")" + projectA + R"(","version":"1.0.0"})",
         200, &r);
    auto src = server->get("/api/plugin-sources?project_id=" + projectB);
    ASSERT_EQ(src.status, 200) << src.body;
    EXPECT_EQ(src.json()->getArray("default_sources")->getObject(0)->getValue<std::string>("path"),
              other + "/.atelier/plugins");
    EXPECT_EQ(
        server->put("/api/plugin-sources", R"({"project_id":")" + projectB + R"(","sources":[{"type":"ftp"}]})").status,
        400);
    EXPECT_EQ(server
                  ->put("/api/plugin-sources",
                        R"({"project_id":")" + projectB + R"(","sources":[{"type":"filesystem","path":"rel"}]})")
                  .status,
              400);
    auto put = server->put("/api/plugin-sources", R"({"project_id":")" + projectB +
                                                      R"(","sources":[{"type":"filesystem","path":")" + repo +
                                                      R"(/.atelier/plugins"}]})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json()->getArray("project_sources")->size(), 1u);
    auto avail = server->get("/api/plugins/available?project_id=" + projectB);
    ASSERT_EQ(avail.status, 200);
    ASSERT_EQ(avail.jsonArray()->size(), 1u) << avail.body;
    EXPECT_EQ(avail.jsonArray()->getObject(0)->getValue<std::string>("name"), "team-kit");

    post("/api/plugins/install-remote", R"({"name":"team-kit","project_id":")" + projectB + R"("})", 201, &r);
    std::string pluginId = r.json()->getObject("plugin")->getValue<std::string>("id");
    EXPECT_EQ(r.json()->getValue<int>("agents_created"), 2);
    auto cu = server->get("/api/plugins/" + pluginId + "/check-updates");
    ASSERT_EQ(cu.status, 200) << cu.body;
    EXPECT_FALSE(cu.json()->getValue<bool>("has_update"));
    post("/api/plugins/export",
         R"({"package_name":"team-kit","project_id":")" + projectA + R"(","version":"1.1.0","overwrite":true})", 200);
    cu = server->get("/api/plugins/" + pluginId + "/check-updates");
    EXPECT_TRUE(cu.json()->getValue<bool>("has_update")) << cu.body;
    EXPECT_EQ(cu.json()->getValue<std::string>("latest_version"), "1.1.0");
    post("/api/plugins/" + pluginId + "/pull", "{}", 200, &r);
    EXPECT_EQ(r.json()->getObject("plugin")->getValue<std::string>("version"), "1.1.0");
    EXPECT_EQ(
        server->post("/api/plugins/install-remote", R"({"name":"nothing-here","project_id":")" + projectB + R"("})")
            .status,
        404);

    // Publish to an HTTP registry, then install from it in a third project.
    FakeRegistry registry;
    auto bad = server->post("/api/plugins/publish", R"({"package_name":"team-kit","project_id":")" + projectA +
                                                        R"(","author":"acme","registry_url":")" + registry.url() +
                                                        R"(","token":"wrong"})");
    EXPECT_EQ(bad.status, 403) << bad.body;
    post("/api/plugins/publish",
         R"({"package_name":"team-kit","project_id":")" + projectA + R"(","author":"acme","registry_url":")" +
             registry.url() + R"(","token":"s3cret","channel":"stable","version":"1.2.0"})",
         200, &r);
    EXPECT_EQ(registry.lastPath, "/api/pkg/acme/team-kit?channel=stable");
    EXPECT_EQ(r.json()->getValue<std::string>("checksum"), sha256(registry.packages["team-kit"]));
    std::string third = fs::canonical(atelier::test::makeGitRepo()).string();
    std::string projectC = createProject("gamma", third);
    ASSERT_EQ(server
                  ->put("/api/plugin-sources", R"({"project_id":")" + projectC +
                                                   R"(","sources":[{"type":"http","base_url":")" + registry.url() +
                                                   R"(","token":"s3cret"}]})")
                  .status,
              200);
    auto srcC = server->get("/api/plugin-sources?project_id=" + projectC);
    EXPECT_EQ(srcC.body.find("s3cret"), std::string::npos) << "tokens are never returned";
    EXPECT_TRUE(srcC.json()->getArray("project_sources")->getObject(0)->getValue<bool>("has_token"));
    EXPECT_EQ(read(fs::path(third) / ".atelier/plugin-sources.json").find("s3cret"), std::string::npos)
        << "nor written into the project";
    post("/api/plugins/install-remote", R"({"name":"team-kit","project_id":")" + projectC + R"("})", 201, &r);
    EXPECT_EQ(r.json()->getObject("plugin")->getValue<std::string>("version"), "1.2.0");

    // A git source, cloned with libgit2.
    std::string gitSrc = atelier::test::makeGitRepo({{"team-kit-2.0.0.tar.gz", registry.packages["team-kit"]}});
    std::string fourth = fs::canonical(atelier::test::makeGitRepo()).string();
    std::string projectD = createProject("delta", fourth);
    ASSERT_EQ(
        server
            ->put("/api/plugin-sources", R"({"project_id":")" + projectD +
                                             R"(","sources":[{"type":"github","repo":"file://)" + gitSrc + R"("}]})")
            .status,
        200);
    post("/api/plugins/install-remote", R"({"name":"team-kit","project_id":")" + projectD + R"("})", 201, &r);
    EXPECT_EQ(r.json()->getObject("plugin")->getObject("source")->getValue<std::string>("type"), "github");
    std::error_code ec;
    for (auto& d : {third, gitSrc, fourth}) fs::remove_all(d, ec);
}

TEST_F(PackagesIt, HostileArchivesAreRefusedAndLeaveNothingBehind) {
    fs::path dir = fs::path(home) / "archives";
    fs::create_directories(dir);
    std::string plugin =
        R"({"name":"evil","version":"1.0.0","kombuse":{"labels":[{"name":"pwned","color":"#000000"}]}})";
    std::string agent = "---\nname: Evil\nslug: evil\n---\nx\n";
    std::vector<std::pair<std::string, std::vector<Entry>>> cases{
        {"slip", {{".kombuse-plugin/plugin.json", plugin}, {"agents/evil.md", agent}, {"../../escaped.txt", "gotcha"}}},
        {"absolute",
         {{".kombuse-plugin/plugin.json", plugin},
          {"agents/evil.md", agent},
          {"/tmp/skills-absolute-escape.txt", "gotcha"}}},
        {"symlink",
         {{".kombuse-plugin/plugin.json", plugin},
          {"agents/evil.md", agent},
          {"files/link", "", AE_IFLNK, "/etc"},
          {"files/link/passwd", "x"}}},
        {"bomb",
         {{".kombuse-plugin/plugin.json", plugin},
          {"agents/evil.md", agent},
          {"files/zeros.bin", std::string(12 * 1024 * 1024, '\0')}}},
    };
    for (auto& [name, entries] : cases) {
        fs::path pkg = dir / (name + ".tar.gz");
        writeTarGz(pkg, entries);
        auto r = server->post("/api/plugins/install",
                              R"({"package_path":")" + pkg.string() + R"(","project_id":")" + projectB + R"("})");
        EXPECT_TRUE(r.status == 400 || r.status == 413) << name << ": " << r.body;
        EXPECT_TRUE(code(r) == "ARCHIVE_UNSAFE" || code(r) == "ARCHIVE_TOO_LARGE") << name << ": " << r.body;
    }
    EXPECT_LT(fs::file_size(dir / "bomb.tar.gz"), 200u * 1024) << "the bomb is small on disk";
    EXPECT_FALSE(fs::exists(fs::path(home) / "escaped.txt"));
    EXPECT_FALSE(fs::exists(fs::path(server->dataDir()) / "modules/escaped.txt"));
    EXPECT_FALSE(fs::exists("/tmp/skills-absolute-escape.txt"));
    // Nothing half-written: no plugin, no agent, no label, no staging leftovers.
    EXPECT_EQ(server->get("/api/plugins?project_id=" + projectB).jsonArray()->size(), 0u);
    EXPECT_EQ(server->get("/api/agents/by-slug/evil").status, 404);
    EXPECT_EQ(server->get("/api/projects/" + projectB + "/labels").jsonArray()->size(), 0u);
    fs::path staging = fs::path(server->dataDir()) / "modules/skills/staging";
    EXPECT_TRUE(!fs::exists(staging) || fs::is_empty(staging));

    // A package whose checksums do not match, and one that clashes with an existing agent.
    fs::path tampered = dir / "tampered.tar.gz";
    writeTarGz(
        tampered,
        {{".kombuse-plugin/plugin.json", plugin},
         {"manifest.json",
          R"({"name":"evil","version":"1.0.0","type":"plugin","metadata":{"checksums":{"agents/evil.md":"00"}}})"},
         {"agents/evil.md", agent}});
    auto r = server->post("/api/plugins/install",
                          R"({"package_path":")" + tampered.string() + R"(","project_id":")" + projectB + R"("})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(code(r), "CHECKSUM_MISMATCH");
    // An agent the agents module refuses fails the install after a label was created: rolled back.
    fs::path refused = dir / "refused.tar.gz";
    writeTarGz(refused, {{".kombuse-plugin/plugin.json", plugin},
                         {"agents/evil.md", "---\nname: Evil\nslug: evil\nconfig:\n  type: bogus\n---\nx\n"}});
    r = server->post("/api/plugins/install",
                     R"({"package_path":")" + refused.string() + R"(","project_id":")" + projectB + R"("})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(server->get("/api/projects/" + projectB + "/labels").jsonArray()->size(), 0u)
        << "the label created before the failure was rolled back";
    EXPECT_EQ(server->get("/api/plugins?project_id=" + projectB).jsonArray()->size(), 0u);
    fs::path clash = refused;
    EXPECT_EQ(
        server->post("/api/plugins/install", R"({"package_path":"relative.tar.gz","project_id":")" + projectB + R"("})")
            .status,
        400);
    EXPECT_EQ(server
                  ->post("/api/plugins/install",
                         R"({"package_path":"/nonexistent.tar.gz","project_id":")" + projectB + R"("})")
                  .status,
              400);
    EXPECT_EQ(
        server->post("/api/plugins/install", R"({"package_path":")" + clash.string() + R"(","project_id":"nope"})")
            .status,
        404);
    write(dir / "garbage.tar.gz", "this is not an archive");
    EXPECT_EQ(server
                  ->post("/api/plugins/install", R"({"package_path":")" + (dir / "garbage.tar.gz").string() +
                                                     R"(","project_id":")" + projectB + R"("})")
                  .status,
              400);
    EXPECT_EQ(
        server->post("/api/plugins/export", R"({"package_name":"Bad Name","project_id":")" + projectA + R"("})").status,
        400);
    EXPECT_EQ(
        server
            ->post("/api/plugins/export", R"({"package_name":"ok","project_id":")" + projectA + R"(","version":"one"})")
            .status,
        400);
    EXPECT_EQ(server->get("/api/plugins/available").status, 400);
    EXPECT_EQ(server->get("/api/plugins/nope/files").status, 404);
}

}  // namespace
