#include "ops_log.hpp"

#include <atelier/util.hpp>

#include <algorithm>
#include <regex>
#include <string_view>

namespace atelier::events {

OpsLog::OpsLog(const atelier::Module& module) : module_(module) {}

OpsLog::~OpsLog() { stop(); }

void OpsLog::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void OpsLog::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

namespace {
// True when `text` contains a word that any redaction pattern below needs. Most traces (hook
// payloads, event bodies) contain none, and std::regex costs tens of microseconds per pass.
char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool mayHoldSecret(const std::string& text) {
    static const std::string_view words[] = {"token",         "secret", "passw",      "apikey", "api_key", "api-key",
                                             "authorization", "cookie", "credential", "bearer", "basic"};
    for (size_t i = 0; i < text.size(); ++i) {
        char c = asciiLower(text[i]);
        if (c != 't' && c != 's' && c != 'p' && c != 'a' && c != 'c' && c != 'b') continue;
        for (auto w : words) {
            if (w[0] != c || text.size() - i < w.size()) continue;
            size_t k = 1;
            while (k < w.size() && asciiLower(text[i + k]) == w[k]) ++k;
            if (k == w.size()) return true;
        }
    }
    return false;
}
}  // namespace

std::string OpsLog::redact(const std::string& text) {
    if (!mayHoldSecret(text)) return text;
    // Values of secret-looking keys in JSON and key=value text, and bearer tokens.
    static const std::regex jsonSecret(
        R"re(("(?:[A-Za-z_-]*(?:token|secret|password|passwd|api[_-]?key|authorization|cookie|credential)[A-Za-z_-]*)"\s*:\s*)"(?:[^"\\]|\\.)*")re",
        std::regex::icase);
    static const std::regex bearer(R"((Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+)", std::regex::icase);
    static const std::regex kv(R"(((?:token|secret|password|api[_-]?key)=)[^&\s"]+)", std::regex::icase);
    std::string out = std::regex_replace(text, jsonSecret, "$1\"[REDACTED]\"");
    out = std::regex_replace(out, bearer, "$1 [REDACTED]");
    out = std::regex_replace(out, kv, "$1[REDACTED]");
    return out;
}

void OpsLog::record(std::string entryJson) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() > 200000) return;  // overload: drop rather than grow without bound
        queue_.push_back(Item{std::move(entryJson), nullptr, nullptr});
        ++queued_;
        if (queue_.size() > 1) return;  // the writer is already awake or lingering
    }
    cv_.notify_one();
}

void OpsLog::record(std::unique_ptr<Poco::JSON::Object> entry) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() > 200000) return;
        queue_.push_back(Item{{}, std::move(entry), nullptr});
        ++queued_;
        if (queue_.size() > 1) return;
    }
    cv_.notify_one();
}

std::future<std::shared_ptr<const OpsEntry>> OpsLog::recordAsync(std::string entryJson) {
    auto done = std::make_shared<std::promise<std::shared_ptr<const OpsEntry>>>();
    auto future = done->get_future();
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() > 200000) {
            done->set_value(nullptr);
            return future;
        }
        queue_.push_back(Item{std::move(entryJson), nullptr, done});
        ++queued_;
        urgent_ = true;
    }
    cv_.notify_one();
    return future;
}

namespace {
constexpr size_t kBatchMax = 2000;
constexpr auto kLinger = std::chrono::milliseconds(2);
const std::string kLevels[] = {"debug", "info", "warning", "error"};

void bound(Poco::JSON::Object& o, const std::string& key, size_t max) {
    if (!o.has(key) || !o.get(key).isString()) return;
    std::string v = o.getValue<std::string>(key);
    if (v.size() <= max) return;
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    o.set(key, v.substr(0, cut));
    o.set(key + "Truncated", true);
}
}  // namespace

void OpsLog::normalize(Poco::JSON::Object& o) {
    std::string level = o.has("level") && o.get("level").isString() ? o.getValue<std::string>("level") : "info";
    if (level == "warn") level = "warning";
    if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels)) level = "info";
    o.set("level", level);
    if (!o.has("source") || !o.get("source").isString()) o.set("source", "host");
    if (!o.has("message") || !o.get("message").isString()) o.set("message", "");
    // An inbound HTTP trace: the numeric status is the response's; the entry's status is a word.
    if (o.getValue<std::string>("source") == "http" && o.has("status") && o.get("status").isNumeric()) {
        Poco::JSON::Object::Ptr meta = o.has("metadata") ? o.getObject("metadata") : nullptr;
        if (!meta) meta = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        int statusCode = o.getValue<int>("status");
        meta->set("direction", "inbound");
        for (const char* k : {"method", "path", "query", "requestId", "requestContentType", "requestPayload",
                              "requestPayloadTruncated", "requestPayloadOmitted"}) {
            if (o.has(k)) {
                meta->set(k, o.get(k));
                o.remove(k);
            }
        }
        meta->set("statusCode", statusCode);
        for (const char* k : {"durationMs", "responseContentType", "responsePayload", "responsePayloadTruncated",
                              "responsePayloadOmitted"}) {
            if (o.has(k)) {
                meta->set(k, o.get(k));
                o.remove(k);
            }
        }
        o.set("status", statusCode >= 400 ? "failed" : "succeeded");
        if (!o.has("action")) o.set("action", "http.request");
        o.set("metadata", meta);
    } else if (!o.has("status") || !o.get("status").isString()) {
        o.set("status", "info");
    }
    if (!o.has("action")) o.set("action", o.getValue<std::string>("source"));
    if (o.has("command")) {
        if (auto cmd = o.getObject("command")) {
            bound(*cmd, "stdout", 16384);
            bound(*cmd, "stderr", 16384);
        }
    }
    bound(o, "message", 8192);
}

int64_t OpsLog::addListener(Listener l) {
    std::lock_guard lock(listenersMutex_);
    listeners_.emplace_back(++nextListener_, std::move(l));
    return nextListener_;
}

void OpsLog::removeListener(int64_t id) {
    std::lock_guard lock(listenersMutex_);
    std::erase_if(listeners_, [&](const auto& p) { return p.first == id; });
}

void OpsLog::flush() {
    std::unique_lock lock(mutex_);
    uint64_t target = queued_;
    urgent_ = true;
    cv_.notify_one();
    flushedCv_.wait_for(lock, std::chrono::seconds(5), [&] { return written_ >= target || stopping_; });
}

void OpsLog::writeBatch(std::vector<Item>& batch) {
    std::vector<std::shared_ptr<const OpsEntry>> written;
    std::vector<std::shared_ptr<const OpsEntry>> results(batch.size());
    try {
        module_.db().transaction([&](const Db& tx) {
            for (size_t bi = 0; bi < batch.size(); ++bi) {
                Poco::JSON::Object::Ptr o =
                    batch[bi].object ? Poco::JSON::Object::Ptr(new Poco::JSON::Object(std::move(*batch[bi].object)))
                                     : parseObject(batch[bi].json);
                if (!o) continue;
                normalize(*o);
                std::string created = o->optValue<std::string>("timestamp", nowIso());
                o->set("timestamp", created);
                std::string status = o->has("status") ? o->get("status").toString() : std::string();
                std::string entry = redact(atelier::toJson(o));
                auto row = tx.one(
                    "INSERT INTO events_ops_log (created_at, level, source, status, message, entry) VALUES (?, ?, ?, "
                    "?, ?, ?)"
                    " RETURNING id",
                    {created, o->optValue<std::string>("level", "info"), o->optValue<std::string>("source", "host"),
                     status.empty() ? Param(nullptr) : Param(status), o->optValue<std::string>("message", ""), entry});
                if (!row) continue;
                auto e = std::make_shared<OpsEntry>();
                e->id = row->integer("id");
                // Put the id first in the delivered object.
                e->json = "{\"id\":" + std::to_string(e->id) + "," + entry.substr(1);
                results[bi] = e;
                written.push_back(std::move(e));
            }
        });
    } catch (const std::exception& ex) {
        module_.host().warn(std::string("operations log: a batch could not be written: ") + ex.what());
        written.clear();
        std::fill(results.begin(), results.end(), nullptr);
    }
    for (size_t bi = 0; bi < batch.size(); ++bi)
        if (batch[bi].done) batch[bi].done->set_value(results[bi]);
    if (written.empty()) return;
    std::vector<std::pair<int64_t, Listener>> ls;
    {
        std::lock_guard lock(listenersMutex_);
        ls = listeners_;
    }
    for (auto& [id, l] : ls) {
        try {
            l(written);
        } catch (...) {
        }
    }
}

std::unique_ptr<Poco::JSON::Object> OpsLog::traceEntry(const Poco::JSON::Object& f) {
    auto text = [&](const char* k) {
        return f.has(k) && f.get(k).isString() ? f.getValue<std::string>(k) : std::string();
    };
    std::string method = text("method"), path = text("path");
    if (path.rfind("/api/", 0) != 0 || path == "/api/health") return nullptr;
    if (method == "GET" && (path == "/api/logs" || path == "/api/activity")) return nullptr;
    int status = f.has("status") && f.get("status").isInteger() ? f.getValue<int>("status") : 0;
    auto o = std::make_unique<Poco::JSON::Object>(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("level", status >= 500 ? "error" : (status >= 400 ? "warn" : "info"));
    o->set("source", "http");
    o->set("message", method + " " + path + " " + std::to_string(status));
    o->set("method", method);
    o->set("path", path);
    if (!text("query").empty()) o->set("query", redact(text("query")));
    o->set("status", status);
    if (f.has("durationMs")) o->set("durationMs", f.get("durationMs"));
    o->set("requestId", text("requestId"));
    // Bodies: textual ones bounded to 2 KiB (redacted when written), others only noted.
    auto payload = [&](const char* from, const char* key, const std::string& contentType) {
        std::string body = text(from);
        if (body.empty()) return;
        std::string k(key);
        bool textual = contentType.empty() || contentType.find("json") != std::string::npos ||
                       contentType.find("text") != std::string::npos ||
                       contentType.find("x-www-form") != std::string::npos;
        if (!textual) {
            o->set(k + "Omitted", true);
            return;
        }
        constexpr size_t kMax = 2048;
        bool cut = body.size() > kMax || (f.has(std::string(from) + "Truncated"));
        if (body.size() > kMax) {
            size_t at = kMax;
            while (at > 0 && (static_cast<unsigned char>(body[at]) & 0xC0) == 0x80) --at;  // UTF-8 boundary
            body.resize(at);
        }
        o->set(k, redact(body));  // before it is escaped into the entry's JSON text
        if (cut) o->set(k + "Truncated", true);
    };
    payload("requestBody", "requestPayload", text("requestContentType"));
    if (!(f.has("streaming") && f.get("streaming").isBoolean() && f.getValue<bool>("streaming")))
        payload("responseBody", "responsePayload", text("responseContentType"));
    return o;
}

void OpsLog::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
            if (stopping_) break;
            continue;
        }
        // Traces arrive one per request. Lingering a moment gathers them into one transaction
        // and one listener call instead of a commit and an SSE fan-out per request.
        if (!stopping_ && !urgent_ && queue_.size() < kBatchMax)
            cv_.wait_for(lock, kLinger, [&] { return stopping_ || urgent_ || queue_.size() >= kBatchMax; });
        urgent_ = false;
        std::vector<Item> batch;
        while (!queue_.empty() && batch.size() < kBatchMax) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        lock.unlock();
        writeBatch(batch);
        lock.lock();
        written_ += batch.size();
        flushedCv_.notify_all();
    }
    flushedCv_.notify_all();
}

}  // namespace atelier::events
