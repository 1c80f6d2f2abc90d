// Unit tests of the skills module's front matter and archive code (no host needed).
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "archive.hpp"
#include "domain_error.hpp"
#include "front_matter.hpp"

using namespace atelier::skills;

namespace {

fs::path tempDir() {
    std::string t = (fs::temp_directory_path() / "skills-unit-XXXXXX").string();
    return mkdtemp(t.data());
}

TEST(FrontMatter, ParsesTypedValuesAndKeepsOrder) {
    auto fm = parseFrontMatter("---\nname: x\nmode: true\ncount: 3\nquoted: \"true\"\nlist: [a, b]\n---\n\nBody\n");
    ASSERT_TRUE(fm.present);
    ASSERT_EQ(fm.fields.size(), 5u);
    EXPECT_EQ(fm.fields[0].first, "name");
    EXPECT_TRUE(fm.find("mode")->isBoolean());
    EXPECT_EQ(fm.find("count")->convert<int>(), 3);
    EXPECT_TRUE(fm.find("quoted")->isString());
    EXPECT_EQ(fm.body, "Body\n");
}

TEST(FrontMatter, RoundTripsThroughTheEmitter) {
    Fields f{{"name", std::string("a: b")}, {"description", std::string("- starts with dash")}, {"mode", true}};
    std::string md = renderFrontMatter(f, "text\n");
    auto back = parseFrontMatter(md);
    EXPECT_EQ(back.text("name"), "a: b");
    EXPECT_EQ(back.text("description"), "- starts with dash");
    EXPECT_TRUE(back.find("mode")->extract<bool>());
    EXPECT_EQ(back.body, "text\n");
}

TEST(FrontMatter, RefusesMalformedYaml) {
    EXPECT_THROW(parseFrontMatter("---\nname: [x\n---\n"), DomainError);
    EXPECT_THROW(parseFrontMatter("---\n- a list\n---\n"), DomainError);
    EXPECT_THROW(parseFrontMatter("---\nname: x\n"), DomainError);
    EXPECT_FALSE(parseFrontMatter("no front matter").present);
}

TEST(Archive, RoundTripAndLimitsCountRealBytes) {
    fs::path dir = tempDir();
    fs::create_directories(dir / "src/a");
    std::ofstream(dir / "src/a/file.txt") << "hello";
    std::ofstream(dir / "src/big.bin") << std::string(4096, 'x');
    createTarGz(dir / "src", dir / "out.tar.gz");
    extractArchive(dir / "out.tar.gz", dir / "dest");
    std::ifstream in(dir / "dest/a/file.txt");
    std::string s;
    in >> s;
    EXPECT_EQ(s, "hello");
    ArchiveLimits small;
    small.maxEntryBytes = 1000;
    try {
        extractArchive(dir / "out.tar.gz", dir / "dest2", small);
        FAIL() << "oversized entry accepted";
    } catch (const DomainError& e) {
        EXPECT_EQ(e.code, "ARCHIVE_TOO_LARGE");
    }
    EXPECT_FALSE(fs::exists(dir / "dest2")) << "a refused extraction leaves nothing";
    fs::remove_all(dir);
}

}  // namespace
