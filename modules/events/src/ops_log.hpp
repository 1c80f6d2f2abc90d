// The operations log: HTTP request traces and command executions. Entries are queued and
// written in batches (one transaction per batch) by a background thread, then delivered to
// live listeners (SSE) in id order. Secrets are redacted before anything is stored. Entries
// arrive through the host hooks "ops.record" (any module's ops_record) and
// "http.request_finished" (traced here as `source: http`).
#pragma once

#include <atelier/sdk.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace atelier::events {

struct OpsEntry {
    int64_t id = 0;
    std::string json;  // the stored object, including id and timestamp
};

class OpsLog {
public:
    using Listener = std::function<void(const std::vector<std::shared_ptr<const OpsEntry>>&)>;
    explicit OpsLog(const atelier::Module& module);
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

    // The trace of a finished request from the host's "http.request_finished" payload; null
    // for requests that are not traced (outside /api, health, reads of the logs themselves).
    static std::unique_ptr<Poco::JSON::Object> traceEntry(const Poco::JSON::Object& finished);

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
    const atelier::Module& module_;
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

}  // namespace atelier::events
