// Shared fixture for the skills module's integration tests: a temporary HOME with real-looking
// agent CLI directories, a git repository as the active project, and the real host serving
// projects, agents, tickets and skills over a real socket.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "test_server.hpp"

namespace skillsfix {

namespace fs = std::filesystem;
using atelier::test::HttpResult;
using atelier::test::TestServer;

inline void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}
inline std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
inline bool waitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return cond();
}
// Every entry under `root`: regular files by content, links by target, directories as "/".
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    if (!fs::exists(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        auto rel = it->path().lexically_relative(root).string();
        auto st = it->symlink_status();
        if (fs::is_symlink(st))
            out[rel] = "-> " + fs::read_symlink(it->path()).string();
        else if (fs::is_directory(st))
            out[rel] = "/";
        else
            out[rel] = read(it->path());
    }
    return out;
}
inline std::string code(const HttpResult& r) {
    auto j = r.json();
    return j && j->has("code") ? j->getValue<std::string>("code") : "";
}

class SkillsServer : public ::testing::Test {
protected:
    void SetUp() override {
        home = fs::canonical(atelier::test::makeTempDir("skills-home-")).string();
        repo = fs::canonical(atelier::test::makeGitRepo()).string();
        bin = fs::canonical(atelier::test::makeTempDir("skills-bin-")).string();
        TestServer::Options o;
        o.cwd = repo;
        o.env["HOME"] = home;
        o.env["PATH"] = bin + ":" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
        extraOptions(o);
        server = std::make_unique<TestServer>(o);
        ASSERT_TRUE(waitFor([&] { return server->get("/api/active-project").status == 200; })) << server->logText();
    }
    virtual void extraOptions(TestServer::Options&) {}
    void TearDown() override {
        server.reset();
        std::error_code ec;
        for (auto& d : {home, repo, bin}) fs::remove_all(d, ec);
    }
    std::string post(const std::string& path, const std::string& body, int expect, HttpResult* out = nullptr) {
        auto r = server->post(path, body);
        EXPECT_EQ(r.status, expect) << path << " " << body << " -> " << r.body;
        if (out) *out = r;
        return r.body;
    }
    std::unique_ptr<TestServer> server;
    std::string home, repo, bin;
};

}  // namespace skillsfix
