// Host logging: lines are queued and written by a background thread so request threads never
// wait on the terminal or the disk. Secrets never reach it (callers redact).
#pragma once

#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace atelier::host {

class Logger {
public:
    enum Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };
    // `accessLogPath` empty = no access log file.
    Logger(std::string accessLogPath, int minLevel = Info);
    ~Logger();
    void log(int level, const std::string& source, const std::string& message);
    void access(std::string line);
    void flush();

private:
    void run();
    int minLevel_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::string> console_, access_;
    std::ofstream accessFile_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace atelier::host
