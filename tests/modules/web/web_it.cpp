// The web module over a real socket: caching, precompressed encodings, 304, unknown paths, and
// the page served when no UI build exists.
#include <gtest/gtest.h>

#include "test_server.hpp"

using namespace atelier::test;

namespace {

void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

class WebIt : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        root_ = makeTempDir("web-ui-");
        write(fs::path(root_) / "index.html", "<!doctype html><script type=module src=/assets/app-1a2b.js></script>");
        write(fs::path(root_) / "favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
        std::string js(20000, 'x');
        write(fs::path(root_) / "assets/app-1a2b.js", js);
        write(fs::path(root_) / "assets/app-1a2b.js.br", "BROTLI");
        write(fs::path(root_) / "assets/app-1a2b.js.gz", "GZIP");
        TestServer::Options o;
        o.env["ATELIER_WEB_ROOT"] = root_;
        server_ = new TestServer(o);
    }
    static void TearDownTestSuite() {
        delete server_;
        fs::remove_all(root_);
    }
    static inline std::string root_;
    static inline TestServer* server_ = nullptr;
};

TEST_F(WebIt, IndexIsRevalidatedAndCarriesACsp) {
    auto r = server_->get("/");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    EXPECT_NE(r.header("content-security-policy").find("default-src 'self'"), std::string::npos);
    EXPECT_NE(r.body.find("/assets/app-1a2b.js"), std::string::npos);
    EXPECT_FALSE(r.header("etag").empty());
    EXPECT_EQ(server_->get("/index.html").body, r.body);
}

TEST_F(WebIt, HashedAssetsAreImmutableAndPrecompressed) {
    auto br = server_->request("GET", "/assets/app-1a2b.js", {}, {{"Accept-Encoding", "gzip, deflate, br"}});
    ASSERT_EQ(br.status, 200);
    EXPECT_EQ(br.header("content-encoding"), "br");
    EXPECT_EQ(br.body, "BROTLI");
    EXPECT_EQ(br.header("cache-control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(br.header("vary"), "Accept-Encoding");
    EXPECT_EQ(br.header("content-type"), "text/javascript; charset=utf-8");

    auto gz = server_->request("GET", "/assets/app-1a2b.js", {}, {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(gz.header("content-encoding"), "gzip");
    EXPECT_EQ(gz.body, "GZIP");

    auto plain = server_->request("GET", "/assets/app-1a2b.js", {}, {{"Accept-Encoding", "identity"}});
    EXPECT_EQ(plain.header("content-encoding"), "");
    EXPECT_EQ(plain.body, std::string(20000, 'x'));
}

TEST_F(WebIt, IfNoneMatchGives304) {
    auto first = server_->request("GET", "/assets/app-1a2b.js", {}, {{"Accept-Encoding", "br"}});
    auto etag = first.header("etag");
    ASSERT_FALSE(etag.empty());
    auto again =
        server_->request("GET", "/assets/app-1a2b.js", {}, {{"Accept-Encoding", "br"}, {"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    // Another encoding's tag does not match.
    auto other =
        server_->request("GET", "/assets/app-1a2b.js", {}, {{"Accept-Encoding", "gzip"}, {"If-None-Match", etag}});
    EXPECT_EQ(other.status, 200);
}

TEST_F(WebIt, TopLevelFilesAreServed) {
    auto r = server_->get("/favicon.svg");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "image/svg+xml");
    EXPECT_EQ(r.header("cache-control"), "no-cache");
}

TEST_F(WebIt, UnknownPathsKeepTheUniformErrors) {
    auto missing = server_->get("/assets/app-0000.js");
    EXPECT_EQ(missing.status, 404);
    ASSERT_TRUE(missing.json());
    EXPECT_EQ(missing.json()->getValue<std::string>("code"), "NOT_FOUND");
    EXPECT_FALSE(missing.json()->getValue<bool>("success"));
    EXPECT_EQ(server_->get("/assets/app-1a2b.js.br").status, 404);
    EXPECT_EQ(server_->get("/assets/../../etc/passwd").status, 404);
    // Paths the module does not claim answer as before it was loaded.
    EXPECT_EQ(server_->get("/api/no-such-route").status, 404);
    EXPECT_EQ(server_->post("/api/no-such-route").status, 404);
    EXPECT_EQ(server_->get("/some/client/route").status, 404);
    EXPECT_EQ(server_->post("/").status, 405);
}

TEST_F(WebIt, HeadAnswersWithoutABody) {
    auto r = server_->request("HEAD", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
}

TEST(WebNotBuilt, RootExplainsHowToBuildTheUi) {
    auto empty = makeTempDir("web-ui-empty-");
    TestServer::Options o;
    o.env["ATELIER_WEB_ROOT"] = empty;
    TestServer server(o);
    auto r = server.get("/");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("npm ci"), std::string::npos);
    EXPECT_NE(r.body.find("not been built"), std::string::npos);
    EXPECT_EQ(server.get("/assets/app.js").status, 404);
    EXPECT_EQ(server.get("/api/health").status, 200);
    fs::remove_all(empty);
}

}  // namespace
