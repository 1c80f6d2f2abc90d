#include "logger.hpp"

#include <atelier/util.hpp>

#include <cstdio>

namespace atelier::host {

namespace {
constexpr size_t kAccessBatch = 512;
}

Logger::Logger(std::string accessLogPath, int minLevel) : minLevel_(minLevel) {
    if (!accessLogPath.empty()) accessFile_.open(accessLogPath, std::ios::app);
    thread_ = std::thread([this] { run(); });
}

Logger::~Logger() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Logger::log(int level, const std::string& source, const std::string& message) {
    if (level < minLevel_) return;
    static const char* names[] = {"debug", "info", "warn", "error"};
    std::string line = nowIso() + " " + names[level < 0 ? 0 : (level > 3 ? 3 : level)] + " [" + source + "] " + message;
    {
        std::lock_guard lock(mutex_);
        console_.push_back(std::move(line));
        if (console_.size() > 1) return;  // the writer has been woken already
    }
    cv_.notify_one();
}

void Logger::access(std::string line) {
    if (!accessFile_.is_open()) return;
    {
        std::lock_guard lock(mutex_);
        if (access_.size() > 100000) return;  // never grow without bound under overload
        access_.push_back(std::move(line));
        // The writer wakes every 200 ms or at kAccessBatch lines; waking it for each request
        // costs two context switches per request.
        if (access_.size() != kAccessBatch + 1) return;
    }
    cv_.notify_one();
}

void Logger::flush() {
    std::deque<std::string> c, a;
    {
        std::lock_guard lock(mutex_);
        c.swap(console_);
        a.swap(access_);
    }
    for (auto& l : c) std::fprintf(stderr, "%s\n", l.c_str());
    std::fflush(stderr);
    for (auto& l : a) accessFile_ << l << '\n';
    if (!a.empty()) accessFile_.flush();
}

void Logger::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_ || !console_.empty() || access_.size() > kAccessBatch; });
        bool stop = stopping_;
        lock.unlock();
        flush();
        lock.lock();
        if (stop) break;
    }
    lock.unlock();
    flush();
}

}  // namespace atelier::host
