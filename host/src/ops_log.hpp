// The operations log: HTTP request traces and command executions. Entries are queued and
// written in batches (one transaction per batch) by a background thread, then delivered to
// live listeners (SSE) in id order. Secrets are redacted before anything is stored.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage.hpp"

namespace Poco::JSON {
class Object;
}

namespace atelier::host {

struct OpsEntry {
    int64_t id = 0;
    std::string json;  // the stored object, including id and timestamp
};

class OpsLog {
public:
    using Listener = std::function<void(const std::vector<std::shared_ptr<const OpsEntry>>&)>;
    explicit OpsLog(Storage& storage);
    ~OpsLog();
    void start();
    void stop();
    // Queues an entry (JSON object text with at least level, source, message).
    void record(std::string entryJson);
    // The same for an entry already built as an object (request traces): no text round trip.
    void record(std::unique_ptr<Poco::JSON::Object> entry);
    // Queues an entry and returns the stored one (with id and timestamp) once written; an
    // empty future value when the entry was rejected (not an object) or the queue is full.
    std::future<std::shared_ptr<const OpsEntry>> recordAsync(std::string entryJson);
    int64_t addListener(Listener l);
    void removeListener(int64_t id);
    // Blocks until everything queued so far is written (tests and shutdown).
    void flush();

    static std::string redact(const std::string& text);
    // Brings an entry to the OpenKit OpsLogEvent shape: level debug|info|warning|error,
    // status a word, HTTP traces' request/response fields under `metadata`, command
    // stdout/stderr bounded (with `stdoutTruncated`/`stderrTruncated`).
    static void normalize(Poco::JSON::Object& entry);

private:
    void run();
    struct Item {
        std::string json;  // the entry as text, or
        std::unique_ptr<Poco::JSON::Object> object;  // as an object
        std::shared_ptr<std::promise<std::shared_ptr<const OpsEntry>>> done;
    };
    void writeBatch(std::vector<Item>& batch);
    Storage& storage_;
    std::mutex mutex_;
    std::condition_variable cv_, flushedCv_;
    std::deque<Item> queue_;
    uint64_t queued_ = 0, written_ = 0;
    bool stopping_ = false;
    // Someone waits for the queue to be written (recordAsync, flush): skip the linger.
    bool urgent_ = false;
    std::thread thread_;
    std::mutex listenersMutex_;
    std::vector<std::pair<int64_t, Listener>> listeners_;
    int64_t nextListener_ = 0;
};

}  // namespace atelier::host
