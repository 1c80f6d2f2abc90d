#include "asset_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using atelier::web::AssetStore;
using atelier::web::Encoding;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "web-assets-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() { fs::remove_all(path); }
};

class AssetStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        write(dir.path / "build/index.html", "<!doctype html><title>x</title>");
        write(dir.path / "build/favicon.svg", "<svg/>");
        write(dir.path / "build/assets/app-1a2b.js", "console.log(1)");
        write(dir.path / "build/assets/app-1a2b.js.gz", "GZ-BYTES");
        write(dir.path / "build/assets/app-1a2b.js.br", "BR-BYTES");
        write(dir.path / "build/assets/style-9f.css", "body{}");
        write(dir.path / "secret.txt", "outside");
        fs::create_symlink(dir.path / "secret.txt", dir.path / "build/assets/link.txt");
        store = AssetStore::load(dir.path / "build");
    }
    TempDir dir;
    AssetStore store;
};

}  // namespace

TEST_F(AssetStoreTest, FindsFilesAndIndexAtRoot) {
    ASSERT_TRUE(store.built());
    auto* index = store.find("/");
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->identity, "<!doctype html><title>x</title>");
    EXPECT_EQ(index->contentType, "text/html; charset=utf-8");
    EXPECT_FALSE(index->immutable);
    EXPECT_EQ(store.find("/index.html"), index);
    auto* js = store.find("/assets/app-1a2b.js");
    ASSERT_NE(js, nullptr);
    EXPECT_TRUE(js->immutable);
    EXPECT_EQ(js->contentType, "text/javascript; charset=utf-8");
    EXPECT_EQ(js->gzip, "GZ-BYTES");
    EXPECT_EQ(js->brotli, "BR-BYTES");
    EXPECT_EQ(store.find("/assets/style-9f.css")->contentType, "text/css; charset=utf-8");
}

TEST_F(AssetStoreTest, NeverServesCompressedSiblingsSymlinksOrPathsOutside) {
    EXPECT_EQ(store.find("/assets/app-1a2b.js.gz"), nullptr);
    EXPECT_EQ(store.find("/assets/link.txt"), nullptr);
    EXPECT_EQ(store.find("/../secret.txt"), nullptr);
    EXPECT_EQ(store.find("/assets/../../secret.txt"), nullptr);
    EXPECT_EQ(store.find("/assets/missing-00.js"), nullptr);
    EXPECT_EQ(store.find("/tickets/42"), nullptr);
}

TEST_F(AssetStoreTest, TopLevelFilesAreTheOnlyExtraRoutes) {
    auto names = store.topLevelFiles();
    EXPECT_EQ(names, (std::vector<std::string>{"favicon.svg", "index.html"}));
}

TEST_F(AssetStoreTest, PicksTheEncodingTheClientAccepts) {
    const auto& js = *store.find("/assets/app-1a2b.js");
    auto br = AssetStore::select(js, "gzip, deflate, br, zstd");
    EXPECT_EQ(br.encoding, Encoding::Brotli);
    EXPECT_EQ(br.body, "BR-BYTES");
    auto gz = AssetStore::select(js, "gzip");
    EXPECT_EQ(gz.encoding, Encoding::Gzip);
    EXPECT_EQ(gz.body, "GZ-BYTES");
    EXPECT_EQ(AssetStore::select(js, "br;q=0, gzip;q=0.5").encoding, Encoding::Gzip);
    EXPECT_EQ(AssetStore::select(js, "br;q=0, gzip;q=0").encoding, Encoding::Identity);
    EXPECT_EQ(AssetStore::select(js, "").encoding, Encoding::Identity);
    EXPECT_EQ(AssetStore::select(js, "*").encoding, Encoding::Brotli);
    EXPECT_EQ(AssetStore::select(js, "identity").body, "console.log(1)");
    // A file without variants goes out as it is, whatever the client accepts.
    EXPECT_EQ(AssetStore::select(*store.find("/favicon.svg"), "br, gzip").encoding, Encoding::Identity);
}

TEST_F(AssetStoreTest, EtagsDifferPerEncodingAndMatchIfNoneMatch) {
    const auto& js = *store.find("/assets/app-1a2b.js");
    auto id = AssetStore::select(js, "").etag;
    auto br = AssetStore::select(js, "br").etag;
    EXPECT_NE(id, br);
    EXPECT_EQ(id.front(), '"');
    EXPECT_TRUE(AssetStore::notModified(id, id));
    EXPECT_TRUE(AssetStore::notModified("\"other\", W/" + br, br));
    EXPECT_TRUE(AssetStore::notModified("*", br));
    EXPECT_FALSE(AssetStore::notModified(id, br));
    EXPECT_FALSE(AssetStore::notModified("", id));
}

TEST(AssetStoreLoad, MissingOrIncompleteBuildIsNotBuilt) {
    EXPECT_FALSE(AssetStore::load("/nonexistent/web-ui").built());
    TempDir dir;
    write(dir.path / "assets/app.js", "x");
    auto store = AssetStore::load(dir.path);
    EXPECT_FALSE(store.built());
    EXPECT_EQ(store.size(), 1u);
}

TEST(AssetStoreLoad, ContentTypes) {
    EXPECT_EQ(AssetStore::contentTypeFor("a.svg"), "image/svg+xml");
    EXPECT_EQ(AssetStore::contentTypeFor("a.woff2"), "font/woff2");
    EXPECT_EQ(AssetStore::contentTypeFor("a.json"), "application/json");
    EXPECT_EQ(AssetStore::contentTypeFor("noext"), "application/octet-stream");
}
