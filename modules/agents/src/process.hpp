// A child process run from an argv vector (never a shell string) in its own process group,
// with stdin/stdout/stderr pipes. pump() reads both output pipes with epoll on the calling
// thread, line by line, until the child exits; terminate() (any thread) signals the whole
// group: SIGTERM, then SIGKILL after a grace period. The child is always reaped.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace agents {

struct SpawnSpec {
    std::vector<std::string> argv;
    std::string cwd;
    std::map<std::string, std::string> env;  // added to / overriding the host environment
    std::vector<std::string> unsetEnv;
};

struct ExitStatus {
    int code = -1;    // exit code when exited normally
    int signal = 0;   // terminating signal, 0 if none
    bool ok() const { return signal == 0 && code == 0; }
    std::string describe() const;
};

// Finds `name` on PATH (or returns it when it already contains a slash and is executable).
std::string findExecutable(const std::string& name, const std::string& pathEnv);

class ChildProcess {
public:
    ChildProcess() = default;
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Throws std::runtime_error with a readable reason when the program cannot be started.
    void spawn(const SpawnSpec& spec);
    using LineFn = std::function<void(bool isStderr, const std::string& line)>;
    ExitStatus pump(const LineFn& onLine);
    bool writeStdin(const std::string& data);
    void closeStdin();
    void terminate(int graceMs = 2000);
    // pump() terminates the group by itself once `ms` have passed (0 = no limit).
    void setTimeout(int ms) { timeoutMs_ = ms; }
    pid_t pid() const { return pid_; }

private:
    void killGroup(int sig);
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1, wake_ = -1;
    std::mutex stdinMutex_;
    std::atomic<bool> terminating_{false};
    std::atomic<int> graceMs_{2000};
    bool reaped_ = false;
    int timeoutMs_ = 0;
};

// Runs a short command to completion (argv, no shell) and returns its stdout; used for
// version probes and installs. Kills the group after `timeoutMs`.
ExitStatus runCapture(const std::vector<std::string>& argv, std::string& output, int timeoutMs,
                      const std::string& cwd = {});

}  // namespace agents
