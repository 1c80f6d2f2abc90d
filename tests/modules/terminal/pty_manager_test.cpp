// PtyManager, Scrollback and frame helpers: real PTYs and real processes, no host.
#include "frames.hpp"
#include "pty_manager.hpp"
#include "scrollback.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace atelier::terminal;
using namespace atelier::terminal::testutil;

TEST(Scrollback, KeepsTheNewestBytesAcrossWraps) {
    Scrollback sb(10);
    sb.append("abc");
    EXPECT_EQ(sb.snapshot(), "abc");
    sb.append("defghij");
    EXPECT_EQ(sb.snapshot(), "abcdefghij");
    sb.append("klm");
    EXPECT_EQ(sb.snapshot(), "defghijklm");
    sb.append("0123456789ABCD");
    EXPECT_EQ(sb.snapshot(), "456789ABCD");
    sb.append("xy");
    EXPECT_EQ(sb.snapshot(), "6789ABCDxy");
    EXPECT_EQ(sb.total(), 29u);
    uint64_t start = 0;
    EXPECT_EQ(sb.since(27, &start), "xy");
    EXPECT_EQ(start, 27u);
    EXPECT_EQ(sb.since(0, &start), "6789ABCDxy");  // older bytes were dropped
    EXPECT_EQ(start, 19u);
    EXPECT_LE(sb.memoryBytes(), 16u);
}

TEST(Scrollback, GrowsLazily) {
    Scrollback sb(2 * 1024 * 1024);
    sb.append("prompt$ ");
    EXPECT_LT(sb.memoryBytes(), 4096u);
}

TEST(Frames, RestoreAndExitFramesAreValidJson) {
    EXPECT_EQ(exitFrame(3), R"({"type":"exit","exitCode":3})");
    std::string raw = "a\"b\\c\n\x1b[0m\xe2\x82\xac";
    EXPECT_EQ(restoreFrame(raw), "{\"type\":\"restore\",\"payload\":\"a\\\"b\\\\c\\n\\u001b[0m\xe2\x82\xac\"}");
    // a sequence cut at the start of the ring and an invalid byte
    EXPECT_EQ(jsonString("\x82\xac" "ok\xff"), "\"ok\xEF\xBF\xBD\"");
}

TEST(Frames, ResizeParsing) {
    auto r = parseResize(R"({"type":"resize","cols":100,"rows":40})");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->valid);
    EXPECT_EQ(r->cols, 100);
    EXPECT_EQ(r->rows, 40);
    auto bad = parseResize(R"({"type":"resize","cols":0,"rows":40})");
    ASSERT_TRUE(bad);
    EXPECT_FALSE(bad->valid);
    EXPECT_FALSE(parseResize("ls -la\r"));
    EXPECT_FALSE(parseResize(R"({"type":"other"})"));
    EXPECT_FALSE(parseResize("{resize"));
}

TEST(Frames, OriginAllowList) {
    EXPECT_TRUE(originAllowed("", ""));
    EXPECT_TRUE(originAllowed("http://localhost:5173", ""));
    EXPECT_TRUE(originAllowed("http://127.0.0.1", ""));
    EXPECT_TRUE(originAllowed("https://[::1]:8080", ""));
    EXPECT_FALSE(originAllowed("http://evil.example", ""));
    EXPECT_FALSE(originAllowed("http://localhost.evil.example", ""));
    EXPECT_FALSE(originAllowed("null", ""));
    EXPECT_TRUE(originAllowed("https://app.example", "https://other,https://app.example"));
}

TEST(PtyManager, OutputExitCodeAndTeardown) {
    PtyManager pty;
    pty.start();
    Collector c;
    auto spec = shCommand("printf 'hello-from-pty\\n'; exit 3");
    std::string id = pty.spawn(spec);
    EXPECT_EQ(id.rfind("term-", 0), 0u);
    ASSERT_TRUE(pty.attach(id, c.subscriber()));
    ASSERT_TRUE(c.waitExit(5000));
    EXPECT_EQ(c.exitCode(), 3);
    EXPECT_NE(c.restoreAndOutput().find("hello-from-pty"), std::string::npos);
    ASSERT_TRUE(waitUntil([&] { return !pty.info(id)->running; }, 2000));
    auto info = pty.info(id);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->running);
    EXPECT_EQ(info->exitCode.value_or(-99), 3);
    EXPECT_TRUE(waitUntil([&] { return pty.count() == 0; }, 2000));
    EXPECT_EQ(pty.write(id, "x"), WriteResult::NotFound);
    pty.stop();
}

TEST(PtyManager, EchoResizeAndTwoSubscribers) {
    PtyManager pty;
    pty.start();
    std::string id = pty.spawn(shCommand("stty size; stty -echo; while read line; do echo \"got:$line\"; [ \"$line\" = size ] && stty size; done"));
    Collector a, b;
    ASSERT_TRUE(pty.attach(id, a.subscriber()));
    ASSERT_TRUE(pty.attach(id, b.subscriber()));
    EXPECT_TRUE(a.waitFor("24 80", 5000)) << a.restoreAndOutput();  // the size given at spawn
    ASSERT_EQ(pty.write(id, "ping\n"), WriteResult::Ok);
    EXPECT_TRUE(a.waitFor("got:ping", 5000));
    EXPECT_TRUE(b.waitFor("got:ping", 5000));
    ASSERT_TRUE(pty.resize(id, 100, 40));
    ASSERT_EQ(pty.write(id, "size\n"), WriteResult::Ok);
    EXPECT_TRUE(a.waitFor("40 100", 5000)) << a.restoreAndOutput();
    EXPECT_THROW(pty.resize(id, 0, 10), SpawnError);
    auto info = pty.info(id);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->cols, 100);
    EXPECT_EQ(info->rows, 40);
    EXPECT_EQ(info->subscribers, 2u);
    pty.stop();
}

TEST(PtyManager, RestoreContainsEarlierOutput) {
    PtyManager pty;
    pty.start();
    std::string id = pty.spawn(shCommand("echo early-output-marker; exec cat"));
    Collector first;
    ASSERT_TRUE(pty.attach(id, first.subscriber()));
    ASSERT_TRUE(first.waitFor("early-output-marker", 5000));
    Collector late;
    ASSERT_TRUE(pty.attach(id, late.subscriber()));
    ASSERT_TRUE(late.waitRestore(5000));
    EXPECT_NE(late.restore().find("early-output-marker"), std::string::npos);
    pty.stop();
}

TEST(PtyManager, ValidationErrors) {
    PtyConfig cfg;
    cfg.maxSessions = 2;
    PtyManager pty(cfg);
    pty.start();
    SpawnSpec bad = shCommand("true");
    bad.cwd = "/definitely/not/here";
    try {
        pty.spawn(bad);
        FAIL();
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.kind, SpawnError::Kind::BadCwd);
    }
    SpawnSpec big = shCommand("true");
    big.cols = 1001;
    EXPECT_THROW(pty.spawn(big), SpawnError);
    SpawnSpec missing;
    missing.argv = {"no-such-program-atelier"};
    missing.cwd = "/";
    try {
        pty.spawn(missing);
        FAIL();
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.kind, SpawnError::Kind::BadCommand);
    }
    pty.spawn(shCommand("sleep 30"));
    pty.spawn(shCommand("sleep 30"));
    try {
        pty.spawn(shCommand("sleep 30"));
        FAIL();
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.kind, SpawnError::Kind::TooManySessions);
    }
    pty.stop();
}

TEST(PtyManager, DestroyKillsAProcessGroupThatIgnoresSighup) {
    PtyConfig cfg;
    cfg.killGraceMs = 300;
    PtyManager pty(cfg);
    pty.start();
    TempDir dir;
    std::string pidFile = dir.path + "/pids";
    std::string id = pty.spawn(shCommand("trap '' HUP; sleep 1000 & echo $$ $! > " + pidFile + "; wait"));
    auto pids = waitPids(pidFile, 2, 5000);
    ASSERT_EQ(pids.size(), 2u);
    for (pid_t p : pids) EXPECT_TRUE(processAlive(p));
    ASSERT_TRUE(pty.destroy(id));
    EXPECT_FALSE(pty.destroy(id));
    // SIGHUP is ignored; SIGKILL after the grace period must take both down.
    for (pid_t p : pids) EXPECT_TRUE(waitGone(p, 5000)) << "pid " << p << " survived";
    EXPECT_TRUE(waitUntil([&] { return pty.dyingCount() == 0; }, 5000));
    pty.stop();
}

TEST(PtyManager, NoZombiesAfterHundredSessions) {
    PtyConfig cfg;
    cfg.maxSessions = 200;
    cfg.killGraceMs = 500;
    PtyManager pty(cfg);
    pty.start();
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        // half exit on their own, half are destroyed
        ids.push_back(pty.spawn(shCommand(i % 2 ? "exit 0" : "exec sleep 100")));
    }
    for (int i = 0; i < 100; i += 2) EXPECT_TRUE(pty.destroy(ids[static_cast<size_t>(i)]));
    EXPECT_TRUE(waitUntil([&] { return pty.count() == 0 && pty.dyingCount() == 0; }, 10000))
        << pty.count() << " live, " << pty.dyingCount() << " dying";
    EXPECT_EQ(childCount(getpid()), 0) << "children (or zombies) left behind";
    pty.stop();
}

TEST(PtyManager, StopLeavesNoProcessBehind) {
    PtyConfig cfg;
    cfg.killGraceMs = 300;
    TempDir dir;
    std::vector<pid_t> pids;
    {
        PtyManager pty(cfg);
        pty.start();
        for (int i = 0; i < 3; ++i) {
            std::string f = dir.path + "/p" + std::to_string(i);
            pty.spawn(shCommand("trap '' HUP; sleep 1000 & echo $$ $! > " + f + "; wait"));
            auto p = waitPids(f, 2, 5000);
            ASSERT_EQ(p.size(), 2u);
            pids.insert(pids.end(), p.begin(), p.end());
        }
        pty.stop();
    }
    for (pid_t p : pids) EXPECT_TRUE(waitGone(p, 3000)) << "pid " << p << " survived stop()";
    EXPECT_EQ(childCount(getpid()), 0);
}

TEST(PtyManager, ExitDetectedWhenAGrandchildKeepsTheSlaveOpen) {
    PtyConfig cfg;
    cfg.killGraceMs = 200;
    PtyManager pty(cfg);
    pty.start();
    Collector c;
    // The shell exits with 7 while a background child still holds the terminal.
    std::string id = pty.spawn(shCommand("trap '' HUP; (trap '' HUP; sleep 1000) & exit 7"));
    ASSERT_TRUE(pty.attach(id, c.subscriber()));
    ASSERT_TRUE(c.waitExit(5000));
    EXPECT_EQ(c.exitCode(), 7);
    EXPECT_TRUE(waitUntil([&] { return pty.dyingCount() == 0; }, 5000));
    pty.stop();
}
