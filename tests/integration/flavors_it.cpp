// API flavors on the real host over real sockets: listeners per flavor from the
// configuration, the X-Atelier-Flavor header, the flavored health route, error bodies of the
// host itself in each flavor's shape, OpenAPI per flavor, and bad listener configuration.
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>

#include <fstream>

#include "test_server.hpp"

using atelier::test::httpRequest;
using atelier::test::HttpResult;
using atelier::test::TestServer;

namespace {

std::string writeConfig(const std::string& json) {
    std::string dir = atelier::test::makeTempDir("atelier-flavor-config-");
    std::string path = dir + "/config.json";
    std::ofstream(path) << json;
    return path;
}

TestServer::Options withConfig(const std::string& json) {
    TestServer::Options o;
    o.extraArgs = {"--modules-dir", atelier::test::makeTempDir("atelier-empty-"), "--config", writeConfig(json)};
    return o;
}

// The bound port of each flavor's listener, from <data-dir>/server-listeners.json.
std::map<std::string, int> listenerPorts(const TestServer& server) {
    std::ifstream in(server.dataDir() + "/server-listeners.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto list = Poco::JSON::Parser().parse(ss.str()).extract<Poco::JSON::Array::Ptr>();
    std::map<std::string, int> out;
    for (size_t i = 0; i < list->size(); ++i) {
        auto o = list->getObject(static_cast<unsigned>(i));
        out[o->getValue<std::string>("flavor")] = o->getValue<int>("port");
    }
    return out;
}

const char* kAllListeners = R"({"listeners": [
    {"host": "127.0.0.1", "port": 0, "flavor": "kanban"},
    {"host": "127.0.0.1", "port": 0, "flavor": "kombuse"},
    {"host": "127.0.0.1", "port": 0, "flavor": "abbado"},
    {"host": "127.0.0.1", "port": 0, "flavor": "krowforge"},
    {"host": "127.0.0.1", "port": 0, "flavor": "openkit"}]})";

class FlavorListeners : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new TestServer(withConfig(kAllListeners));
        ports_ = listenerPorts(*server_);
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static TestServer* server_;
    static std::map<std::string, int> ports_;
};
TestServer* FlavorListeners::server_ = nullptr;
std::map<std::string, int> FlavorListeners::ports_;

TEST_F(FlavorListeners, EveryListenerIsBoundAndRecorded) {
    ASSERT_EQ(ports_.size(), 6u);
    EXPECT_EQ(ports_.at("atelier"), server_->port());
    std::set<int> distinct;
    for (auto& [flavor, port] : ports_) {
        EXPECT_GT(port, 0) << flavor;
        distinct.insert(port);
    }
    EXPECT_EQ(distinct.size(), 6u);
    // The log thread may still be writing the line when server-port appears: wait for it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_->logText().find("for kanban clients") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_NE(server_->logText().find("for kanban clients"), std::string::npos) << server_->logText();
}

TEST_F(FlavorListeners, HealthAnswersInEachProductsShape) {
    auto plain = server_->get("/api/health");
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(plain.json()->getValue<std::string>("status"), "ok");
    EXPECT_FALSE(plain.json()->has("data"));

    auto kanban = httpRequest(ports_.at("kanban"), "GET", "/api/health");
    ASSERT_EQ(kanban.status, 200);
    auto data = kanban.json()->getObject("data");
    ASSERT_TRUE(data) << kanban.body;
    EXPECT_EQ(data->getValue<std::string>("status"), "ok");
    EXPECT_EQ(data->getValue<int>("modules"), plain.json()->getValue<int>("modules"));

    auto abbado = httpRequest(ports_.at("abbado"), "GET", "/api/health");
    ASSERT_EQ(abbado.status, 200);
    EXPECT_EQ(abbado.body, "ok");
    EXPECT_NE(abbado.header("content-type").find("text/plain"), std::string::npos);

    // A flavor without its own health route gets the default one.
    auto kombuse = httpRequest(ports_.at("kombuse"), "GET", "/api/health");
    EXPECT_EQ(kombuse.body, plain.body);
}

TEST_F(FlavorListeners, TheHeaderOverridesTheListener) {
    auto kanban = server_->request("GET", "/api/health", "", {{"X-Atelier-Flavor", "kanban"}});
    ASSERT_TRUE(kanban.json()) << kanban.body;
    EXPECT_TRUE(kanban.json()->has("data"));
    auto back = httpRequest(ports_.at("kanban"), "GET", "/api/health", "", {{"X-Atelier-Flavor", "atelier"}});
    ASSERT_TRUE(back.json()) << back.body;
    EXPECT_FALSE(back.json()->has("data"));
    EXPECT_EQ(back.json()->getValue<std::string>("status"), "ok");

    auto bad = server_->request("GET", "/api/health", "", {{"X-Atelier-Flavor", "jira"}});
    EXPECT_EQ(bad.status, 400);
    ASSERT_TRUE(bad.json()) << bad.body;
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "UNKNOWN_FLAVOR");
    auto details = bad.json()->getArray("details");
    ASSERT_TRUE(details);
    EXPECT_EQ(details->getObject(0)->getValue<std::string>("field"), "X-Atelier-Flavor");
    EXPECT_NE(details->getObject(0)->getValue<std::string>("message").find("krowforge"), std::string::npos);
    // An unknown name on a flavor listener answers in that listener's shape.
    auto badKombuse = httpRequest(ports_.at("kombuse"), "GET", "/api/health", "", {{"X-Atelier-Flavor", "nope"}});
    EXPECT_EQ(badKombuse.status, 400);
    ASSERT_TRUE(badKombuse.json()) << badKombuse.body;
    EXPECT_TRUE(badKombuse.json()->isArray("error")) << badKombuse.body;  // Kombuse's validation issues
}

TEST_F(FlavorListeners, HostErrorsFollowTheFlavor) {
    // 404 from the router.
    auto u = server_->get("/api/nope");
    EXPECT_EQ(u.status, 404);
    EXPECT_EQ(u.json()->getValue<std::string>("code"), "NOT_FOUND");
    EXPECT_FALSE(u.json()->getValue<bool>("success"));
    auto k = httpRequest(ports_.at("kombuse"), "GET", "/api/nope");
    EXPECT_EQ(k.status, 404);
    ASSERT_TRUE(k.json()) << k.body;
    EXPECT_EQ(k.json()->size(), 1u) << k.body;
    EXPECT_NE(k.json()->getValue<std::string>("error").find("/api/nope"), std::string::npos);
    auto kf = httpRequest(ports_.at("krowforge"), "GET", "/api/nope");
    ASSERT_TRUE(kf.json()) << kf.body;
    EXPECT_EQ(kf.json()->getObject("error")->getValue<std::string>("code"), "NOT_FOUND");
    auto a = httpRequest(ports_.at("abbado"), "GET", "/api/nope");
    EXPECT_EQ(a.status, 404);
    EXPECT_NE(a.body.find("No route for GET /api/nope"), std::string::npos) << a.body;
    EXPECT_NE(a.header("content-type").find("text/plain"), std::string::npos);
    // OpenKit documents { success: false, error }: the uniform shape satisfies it.
    auto ok = httpRequest(ports_.at("openkit"), "GET", "/api/nope");
    EXPECT_FALSE(ok.json()->getValue<bool>("success"));
    EXPECT_EQ(ok.json()->getValue<std::string>("code"), "NOT_FOUND");

    // 405 keeps its Allow header in every shape.
    auto na = httpRequest(ports_.at("krowforge"), "DELETE", "/api/health");
    EXPECT_EQ(na.status, 405);
    EXPECT_EQ(na.header("allow"), "GET");
    EXPECT_EQ(na.json()->getObject("error")->getValue<std::string>("code"), "METHOD_NOT_ALLOWED");

    // Errors raised before routing: DNS-rebinding protection, malformed JSON, body limit.
    auto host = httpRequest(ports_.at("abbado"), "GET", "/api/health", "", {{"Host", "evil.example.com"}});
    EXPECT_EQ(host.status, 403);
    EXPECT_NE(host.body.find("Host header not allowed"), std::string::npos) << host.body;
    EXPECT_EQ(host.body.find('{'), std::string::npos) << host.body;
    auto json = httpRequest(ports_.at("krowforge"), "POST", "/api/health", "{\"a\": ");
    EXPECT_EQ(json.status, 400);
    EXPECT_EQ(json.json()->getObject("error")->getValue<std::string>("code"), "INVALID_JSON");
    std::string big(10 * 1024 * 1024 + 1, 'x');
    auto large = httpRequest(ports_.at("kombuse"), "POST", "/api/health", big, {{"Content-Type", "text/plain"}});
    EXPECT_EQ(large.status, 413);
    ASSERT_TRUE(large.json()) << large.body.substr(0, 200);
    EXPECT_NE(large.json()->getValue<std::string>("error").find("exceeds"), std::string::npos);
    EXPECT_FALSE(large.json()->has("success"));
}

TEST_F(FlavorListeners, OpenApiPerFlavor) {
    auto def = server_->get("/api/openapi.json");
    ASSERT_EQ(def.status, 200);
    auto doc = def.json();
    EXPECT_EQ(doc->getObject("info")->getValue<std::string>("x-atelier-flavor"), "atelier");
    auto health = doc->getObject("paths")->getObject("/api/health")->getObject("get");
    EXPECT_FALSE(health->has("x-atelier-flavors"));
    EXPECT_TRUE(doc->getObject("components")
                    ->getObject("schemas")
                    ->getObject("Error")
                    ->getObject("properties")
                    ->has("success"));

    auto kanban = server_->get("/api/openapi.json?flavor=kanban").json();
    ASSERT_TRUE(kanban);
    EXPECT_EQ(kanban->getObject("info")->getValue<std::string>("x-atelier-flavor"), "kanban");
    auto kh = kanban->getObject("paths")->getObject("/api/health")->getObject("get");
    ASSERT_TRUE(kh->has("x-atelier-flavors"));
    EXPECT_EQ(kh->getArray("x-atelier-flavors")->getElement<std::string>(0), "kanban");
    EXPECT_NE(kh->getValue<std::string>("summary").find("{data:"), std::string::npos);

    // Without ?flavor= the document is the requesting listener's flavor.
    auto viaListener = httpRequest(ports_.at("krowforge"), "GET", "/api/openapi.json").json();
    ASSERT_TRUE(viaListener);
    EXPECT_EQ(viaListener->getObject("info")->getValue<std::string>("x-atelier-flavor"), "krowforge");
    auto kfError = viaListener->getObject("components")->getObject("schemas")->getObject("Error");
    EXPECT_EQ(kfError->getObject("properties")->getObject("error")->getValue<std::string>("type"), "object");
    auto abbado = server_->get("/api/openapi.json?flavor=abbado").json();
    EXPECT_EQ(abbado->getObject("components")->getObject("schemas")->getObject("Error")->getValue<std::string>("type"),
              "string");

    auto bad = server_->get("/api/openapi.json?flavor=linear");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "UNKNOWN_FLAVOR");
    EXPECT_EQ(bad.json()->getArray("details")->getObject(0)->getValue<std::string>("field"), "flavor");
}

TEST(FlavorConfig, BadListenersAreRefusedWithAClearMessage) {
    struct Case {
        const char* json;
        const char* expect;
    };
    const Case cases[] = {
        {R"({"listeners": [{"port": 0, "flavor": "jira"}]})", "listeners[0].flavor must be one of atelier, kombuse"},
        {R"({"listeners": [{"port": 70000, "flavor": "kanban"}]})", "listeners[0].port must be from 0 to 65535"},
        {R"({"listeners": [{"flavor": "kanban"}]})", "listeners[0].port must be a number"},
        {R"({"listeners": [{"port": "80", "flavor": "kanban"}]})", "listeners[0].port must be a number"},
        {R"({"listeners": {"port": 1}})", "listeners must be an array"},
        {R"({"listeners": [7]})", "listeners[0] must be an object"},
    };
    for (auto& c : cases) {
        std::string out;
        int rc = atelier::test::run({ATELIER_BINARY, "serve", "--port", "0", "--data-dir", atelier::test::makeTempDir(),
                                     "--config", writeConfig(c.json)},
                                    {}, &out);
        EXPECT_EQ(rc, 2) << c.json << "\n" << out;
        EXPECT_NE(out.find(c.expect), std::string::npos) << c.json << "\n" << out;
    }
}

TEST(FlavorConfig, ABusyListenerPortFailsTheStart) {
    Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
    std::string cfg = std::string(R"({"listeners": [{"host": "127.0.0.1", "port": )") +
                      std::to_string(taken.address().port()) + R"(, "flavor": "kanban"}]})";
    std::string dataDir = atelier::test::makeTempDir();
    std::string out;
    int rc = atelier::test::run(
        {ATELIER_BINARY, "serve", "--port", "0", "--data-dir", dataDir, "--config", writeConfig(cfg)}, {}, &out);
    EXPECT_EQ(rc, 2);
    EXPECT_NE(out.find("cannot listen on 127.0.0.1:" + std::to_string(taken.address().port()) + " (kanban listener)"),
              std::string::npos)
        << out;
    EXPECT_FALSE(std::filesystem::exists(dataDir + "/server-port"));
}

}  // namespace
