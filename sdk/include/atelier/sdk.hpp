// Atelier C++ SDK: the module-side layer over abi.h. Header-only; compiled into each module.
// Nothing here crosses the ABI: every callback the host sees is a plain C function that
// catches every exception and turns it into an error status or an error response.
#pragma once

#include <atelier/abi.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

// The lowest host ABI minor this module needs (define it before including the SDK, or on the
// compiler's command line). Recorded in the entry table; the host refuses an older minor.
#ifndef ATELIER_MIN_ABI_MINOR
#define ATELIER_MIN_ABI_MINOR 0
#endif

namespace atelier {

// ------------------------------------------------------------------ string helpers

inline std::string_view view(atelier_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
inline atelier_str str(std::string_view s) { return atelier_str{s.data(), s.size()}; }

inline void appendSink(void* data, const char* ptr, size_t len) {
    static_cast<std::string*>(data)->append(ptr, len);
}

// True when the host's table offers `fn` (e.g. hostHas(api, &atelier_host_v1::db_engine)): the
// slot lies inside the host's struct_size and is set. The C++ spelling of ATELIER_HOST_HAS;
// the layer checks it before every call it guards and reports ATELIER_ERR_UNSUPPORTED
// instead of reading past the end of an older host's table.
template <typename F>
inline bool hostHas(const atelier_host_v1* api, F atelier_host_v1::*fn) {
    if (!api) return false;
    auto offset = static_cast<size_t>(reinterpret_cast<const char*>(&(api->*fn)) - reinterpret_cast<const char*>(api));
    return api->struct_size >= offset + sizeof(F) && api->*fn != nullptr;
}

template <typename T>
inline T initStruct() {
    T t{};
    t.struct_size = sizeof(T);
    t.abi_major = ATELIER_ABI_MAJOR;
    t.abi_minor = ATELIER_ABI_MINOR;
    return t;
}

// ------------------------------------------------------------------ JSON helpers

using JsonObject = Poco::JSON::Object::Ptr;
using JsonArray = Poco::JSON::Array::Ptr;

inline std::string toJson(const Poco::Dynamic::Var& v) {
    std::ostringstream os;
    Poco::JSON::Stringifier::condense(v, os);
    return os.str();
}

// Object keys keep insertion order so responses read as documented.
inline JsonObject makeObject() { return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER); }
inline JsonArray makeArray() { return new Poco::JSON::Array(); }

// ------------------------------------------------------------------ errors

struct ErrorDetail {
    std::string field;
    std::string message;
};

// Thrown by handlers to answer with the uniform error shape.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string code, std::string message, std::vector<ErrorDetail> details = {})
        : std::runtime_error(message), status_(status), code_(std::move(code)), details_(std::move(details)) {}
    int status() const { return status_; }
    const std::string& code() const { return code_; }
    const std::vector<ErrorDetail>& details() const { return details_; }
    // Extra top-level fields (e.g. the conflicting `ticket` of a claim conflict).
    JsonObject extra;

private:
    int status_;
    std::string code_;
    std::vector<ErrorDetail> details_;
};

inline HttpError badRequest(std::string message, std::string code = "VALIDATION_ERROR",
                            std::vector<ErrorDetail> details = {}) {
    return HttpError(400, std::move(code), std::move(message), std::move(details));
}
inline HttpError notFound(std::string message, std::string code = "NOT_FOUND") {
    return HttpError(404, std::move(code), std::move(message));
}
inline HttpError conflict(std::string message, std::string code = "CONFLICT") {
    return HttpError(409, std::move(code), std::move(message));
}

inline std::string errorBody(int /*status*/, std::string_view code, std::string_view message,
                             const std::vector<ErrorDetail>& details = {}, JsonObject extra = nullptr) {
    JsonObject o = makeObject();
    o->set("success", false);
    o->set("error", std::string(message));
    o->set("code", std::string(code));
    if (!details.empty()) {
        JsonArray arr = makeArray();
        for (auto& d : details) {
            JsonObject e = makeObject();
            e->set("field", d.field);
            e->set("message", d.message);
            arr->add(e);
        }
        o->set("details", arr);
    }
    if (extra) {
        for (auto& [k, v] : *extra) o->set(k, v);
    }
    return toJson(o);
}

// Thrown by Db calls; carries the host's message and its engine-neutral status
// (ATELIER_ERR_CONFLICT, _CONSTRAINT, _BUSY, _INVALID, _UNSUPPORTED, _INTERNAL).
class DbError : public std::runtime_error {
public:
    DbError(int status, std::string message) : std::runtime_error(std::move(message)), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

// ------------------------------------------------------------------ host access

// The module's view of its host: the function table plus the module's context token.
class Host {
public:
    Host() = default;
    Host(const atelier_host_v1* api, atelier_module_ctx* ctx) : api_(api), ctx_(ctx) {}
    const atelier_host_v1* api() const { return api_; }
    atelier_module_ctx* ctx() const { return ctx_; }
    bool valid() const { return api_ != nullptr; }

    void log(atelier_log_level level, std::string_view msg) const {
        if (api_) api_->log(ctx_, level, str(msg));
    }
    void debug(std::string_view m) const { log(ATELIER_LOG_DEBUG, m); }
    void info(std::string_view m) const { log(ATELIER_LOG_INFO, m); }
    void warn(std::string_view m) const { log(ATELIER_LOG_WARN, m); }
    void error(std::string_view m) const { log(ATELIER_LOG_ERROR, m); }
    void setError(std::string_view m) const { api_->set_error(ctx_, str(m)); }

    // The module's configuration object (never null).
    JsonObject config() const {
        std::string out;
        api_->config_get(ctx_, appendSink, &out);
        try {
            auto v = Poco::JSON::Parser().parse(out.empty() ? "{}" : out);
            if (auto o = v.extract<JsonObject>()) return o;
        } catch (...) {
        }
        return makeObject();
    }
    std::string path(atelier_path_kind kind) const {
        std::string out;
        api_->path_get(ctx_, kind, appendSink, &out);
        return out;
    }

    struct CallResult {
        int status = 0;
        std::string body;
        JsonObject json() const {
            try {
                return Poco::JSON::Parser().parse(body).extract<JsonObject>();
            } catch (...) {
                return nullptr;
            }
        }
    };
    // Calls another module's public route in process.
    CallResult call(std::string_view method, std::string_view pathAndQuery, std::string_view body = {},
                    std::string_view headersJson = {}) const {
        CallResult r;
        int rc = api_->call(ctx_, str(method), str(pathAndQuery), str(headersJson), str(body), &r.status,
                            appendSink, &r.body);
        if (rc != ATELIER_OK && r.status == 0) r.status = 500;
        return r;
    }

    void opsRecord(const JsonObject& entry) const { api_->ops_record(ctx_, str(toJson(entry))); }

private:
    const atelier_host_v1* api_ = nullptr;
    atelier_module_ctx* ctx_ = nullptr;
};

// ------------------------------------------------------------------ requests and responses

class Stream;

class Request {
public:
    Request(const atelier_host_v1* api, const atelier_request* req) : api_(api), req_(req) {}
    std::string_view method() const { return view(api_->request_method(req_)); }
    std::string_view path() const { return view(api_->request_path(req_)); }
    std::string_view queryString() const { return view(api_->request_query_string(req_)); }
    std::string_view requestId() const { return view(api_->request_id(req_)); }
    std::string param(std::string_view name) const { return std::string(view(api_->request_param(req_, str(name)))); }
    bool hasQuery(std::string_view name) const { return api_->request_query_has(req_, str(name)) != 0; }
    std::string query(std::string_view name, std::string_view fallback = {}) const {
        if (!hasQuery(name)) return std::string(fallback);
        return std::string(view(api_->request_query(req_, str(name))));
    }
    std::optional<std::string> queryOpt(std::string_view name) const {
        if (!hasQuery(name)) return std::nullopt;
        return std::string(view(api_->request_query(req_, str(name))));
    }
    // Integer query parameter, clamped to [min, max]; a non-number is a 400.
    int64_t queryInt(std::string_view name, int64_t fallback, int64_t min, int64_t max) const {
        auto v = queryOpt(name);
        if (!v || v->empty()) return fallback;
        try {
            size_t used = 0;
            long long n = std::stoll(*v, &used);
            if (used != v->size()) throw std::invalid_argument("trailing");
            if (n < min) n = min;
            if (n > max) n = max;
            return n;
        } catch (...) {
            throw badRequest(std::string(name) + " must be an integer", "VALIDATION_ERROR",
                             {{std::string(name), "must be an integer"}});
        }
    }
    bool hasHeader(std::string_view name) const { return api_->request_header_has(req_, str(name)) != 0; }
    std::string header(std::string_view name) const { return std::string(view(api_->request_header(req_, str(name)))); }
    std::string_view body() const { return view(api_->request_body(req_)); }

    // The body as a JSON object; an empty body is an empty object. Anything else → 400.
    JsonObject json() const {
        auto b = body();
        if (b.find_first_not_of(" \t\r\n") == std::string_view::npos) return makeObject();
        Poco::Dynamic::Var v;
        try {
            v = Poco::JSON::Parser().parse(std::string(b));
        } catch (...) {
            throw HttpError(400, "INVALID_JSON", "Request body is not valid JSON");
        }
        if (v.type() != typeid(JsonObject)) throw HttpError(400, "INVALID_JSON", "Request body must be a JSON object");
        return v.extract<JsonObject>();
    }
    const atelier_request* raw() const { return req_; }

private:
    const atelier_host_v1* api_;
    const atelier_request* req_;
};

// A long-lived response body (SSE and the like), writable from any thread.
class Stream {
public:
    Stream() = default;
    Stream(const atelier_host_v1* api, atelier_stream* s) : api_(api), s_(s) {}
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    Stream(Stream&& o) noexcept : api_(o.api_), s_(std::exchange(o.s_, nullptr)) {}
    Stream& operator=(Stream&& o) noexcept {
        reset();
        api_ = o.api_;
        s_ = std::exchange(o.s_, nullptr);
        return *this;
    }
    ~Stream() { reset(); }
    bool write(std::string_view data) { return s_ && api_->stream_write(s_, str(data)) == ATELIER_OK; }
    // One SSE message; `id` 0 = no id line.
    bool sse(std::string_view event, std::string_view data, int64_t id = 0) {
        std::string m;
        m.reserve(data.size() + event.size() + 32);
        if (id > 0) m += "id: " + std::to_string(id) + "\n";
        if (!event.empty()) m += "event: " + std::string(event) + "\n";
        size_t start = 0;
        while (true) {
            size_t nl = data.find('\n', start);
            m += "data: ";
            m += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
            m += "\n";
            if (nl == std::string_view::npos) break;
            start = nl + 1;
        }
        m += "\n";
        return write(m);
    }
    void close() {
        if (s_) api_->stream_close(s_);
    }
    void reset() {
        if (s_) api_->stream_release(s_);
        s_ = nullptr;
    }
    explicit operator bool() const { return s_ != nullptr; }
    atelier_stream* raw() const { return s_; }

private:
    const atelier_host_v1* api_ = nullptr;
    atelier_stream* s_ = nullptr;
};

class Response {
public:
    Response(const atelier_host_v1* api, atelier_response* res) : api_(api), res_(res) {}
    Response& status(int s) {
        api_->response_set_status(res_, s);
        return *this;
    }
    Response& header(std::string_view name, std::string_view value) {
        api_->response_set_header(res_, str(name), str(value));
        return *this;
    }
    Response& body(std::string_view b) {
        api_->response_set_body(res_, str(b));
        return *this;
    }
    Response& json(const Poco::Dynamic::Var& v, int status = 200) {
        this->status(status);
        header("Content-Type", "application/json");
        return body(toJson(v));
    }
    Response& text(std::string_view t, int status = 200, std::string_view type = "text/plain; charset=utf-8") {
        this->status(status);
        header("Content-Type", type);
        return body(t);
    }
    Response& noContent() { return status(204); }
    Response& error(int status, std::string_view code, std::string_view message,
                    const std::vector<ErrorDetail>& details = {}, JsonObject extra = nullptr) {
        this->status(status);
        header("Content-Type", "application/json");
        return body(errorBody(status, code, message, details, extra));
    }
    // Detaches into a stream served by the host reactor once the handler returns.
    Stream stream(std::string_view contentType, atelier_stream_closed_fn onClosed = nullptr, void* userData = nullptr) {
        return Stream(api_, api_->response_start_stream(res_, str(contentType), onClosed, userData));
    }
    atelier_response* raw() const { return res_; }

private:
    const atelier_host_v1* api_;
    atelier_response* res_;
};

// ------------------------------------------------------------------ WebSockets

class WebSocket {
public:
    WebSocket() = default;
    WebSocket(const atelier_host_v1* api, atelier_websocket* ws, bool retain) : api_(api), ws_(ws) {
        if (retain && ws_) api_->ws_retain(ws_);
        owned_ = retain;
    }
    WebSocket(const WebSocket& o) : api_(o.api_), ws_(o.ws_), owned_(o.ws_ != nullptr) {
        if (ws_) api_->ws_retain(ws_);
    }
    WebSocket& operator=(const WebSocket& o) {
        if (this != &o) {
            reset();
            api_ = o.api_;
            ws_ = o.ws_;
            owned_ = ws_ != nullptr;
            if (ws_) api_->ws_retain(ws_);
        }
        return *this;
    }
    ~WebSocket() { reset(); }
    bool sendText(std::string_view s) const { return ws_ && api_->ws_send(ws_, str(s), 0) == ATELIER_OK; }
    bool sendBinary(std::string_view s) const { return ws_ && api_->ws_send(ws_, str(s), 1) == ATELIER_OK; }
    void close(int code, std::string_view reason = {}) const {
        if (ws_) api_->ws_close(ws_, code, str(reason));
    }
    void reset() {
        if (ws_ && owned_) api_->ws_release(ws_);
        ws_ = nullptr;
        owned_ = false;
    }
    atelier_websocket* raw() const { return ws_; }
    bool operator==(const WebSocket& o) const { return ws_ == o.ws_; }

private:
    const atelier_host_v1* api_ = nullptr;
    atelier_websocket* ws_ = nullptr;
    bool owned_ = false;
};

struct WsHandlers {
    // Return 0 to accept or a close code. `ws` is retained for you: keep the copy.
    std::function<int(const WebSocket& ws, const Request& req)> onOpen;
    std::function<void(const WebSocket& ws, std::string_view data, bool binary)> onMessage;
    std::function<void(const WebSocket& ws, int code)> onClose;
};

// ------------------------------------------------------------------ database

using DbValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

class Row {
public:
    Row(std::vector<std::string> names, std::vector<DbValue> values) : names_(std::move(names)), values_(std::move(values)) {}
    size_t size() const { return values_.size(); }
    int index(std::string_view name) const {
        for (size_t i = 0; i < names_.size(); ++i)
            if (names_[i] == name) return static_cast<int>(i);
        throw std::out_of_range("no column " + std::string(name));
    }
    const DbValue& at(std::string_view name) const { return values_[index(name)]; }
    bool isNull(std::string_view name) const { return std::holds_alternative<std::nullptr_t>(at(name)); }
    int64_t integer(std::string_view name, int64_t fallback = 0) const {
        const auto& v = at(name);
        if (auto p = std::get_if<int64_t>(&v)) return *p;
        if (auto d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
        if (auto s = std::get_if<std::string>(&v)) {
            try {
                return std::stoll(*s);
            } catch (...) {
            }
        }
        return fallback;
    }
    double real(std::string_view name) const {
        const auto& v = at(name);
        if (auto d = std::get_if<double>(&v)) return *d;
        if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
        return 0;
    }
    std::string text(std::string_view name, std::string_view fallback = {}) const {
        const auto& v = at(name);
        if (auto s = std::get_if<std::string>(&v)) return *s;
        if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
        if (auto d = std::get_if<double>(&v)) return std::to_string(*d);
        return std::string(fallback);
    }
    std::optional<std::string> textOpt(std::string_view name) const {
        if (isNull(name)) return std::nullopt;
        return text(name);
    }
    // The value as JSON (null / number / string).
    Poco::Dynamic::Var var(std::string_view name) const {
        const auto& v = at(name);
        if (auto p = std::get_if<int64_t>(&v)) return Poco::Dynamic::Var(*p);
        if (auto d = std::get_if<double>(&v)) return Poco::Dynamic::Var(*d);
        if (auto s = std::get_if<std::string>(&v)) return Poco::Dynamic::Var(*s);
        return Poco::Dynamic::Var();
    }
    const std::vector<std::string>& names() const { return names_; }

private:
    std::vector<std::string> names_;
    std::vector<DbValue> values_;
};

// A bound parameter. Construct from integers, doubles, strings, optional strings or nullptr.
struct Param {
    DbValue v;
    Param(std::nullptr_t) : v(nullptr) {}
    Param(int x) : v(static_cast<int64_t>(x)) {}
    Param(long x) : v(static_cast<int64_t>(x)) {}
    Param(long long x) : v(static_cast<int64_t>(x)) {}
    Param(unsigned x) : v(static_cast<int64_t>(x)) {}
    Param(unsigned long x) : v(static_cast<int64_t>(x)) {}
    Param(bool x) : v(static_cast<int64_t>(x ? 1 : 0)) {}
    Param(double x) : v(x) {}
    Param(const char* s) : v(std::string(s)) {}
    Param(std::string s) : v(std::move(s)) {}
    Param(std::string_view s) : v(std::string(s)) {}
    Param(const std::optional<std::string>& s) : v(s ? DbValue(*s) : DbValue(nullptr)) {}
};

// What db_exec reports. A generated key is read with `INSERT ... RETURNING`, e.g.
// `db.one("INSERT INTO x_items (name) VALUES (?) RETURNING id", {name})->integer("id")`.
struct ExecResult {
    int64_t changes = 0;
};

// One schema step for Module::migrate; `engine` ATELIER_DB_ANY = portable SQL.
struct Migration {
    int64_t version = 0;
    std::string sql;
    int engine = ATELIER_DB_ANY;
};

class Db {
public:
    Db() = default;
    Db(const atelier_host_v1* api, atelier_module_ctx* ctx, atelier_db_txn* txn = nullptr)
        : api_(api), ctx_(ctx), txn_(txn) {}

    ExecResult exec(std::string_view sql, const std::vector<Param>& params = {}) const {
        require(&atelier_host_v1::db_exec, "db_exec");
        auto values = bind(params);
        auto r = initStruct<atelier_db_result>();
        int rc = api_->db_exec(ctx_, txn_, str(sql), values.data(), values.size(), &r);
        if (rc != ATELIER_OK) fail(rc);
        return ExecResult{r.changes};
    }
    std::vector<Row> query(std::string_view sql, const std::vector<Param>& params = {}) const {
        require(&atelier_host_v1::db_query, "db_query");
        auto values = bind(params);
        struct Collector {
            std::vector<Row> rows;
            std::shared_ptr<std::vector<std::string>> names;
        } c;
        auto onRow = [](void* ud, size_t n, const atelier_str* names, const atelier_value* vals) -> int {
            auto* col = static_cast<Collector*>(ud);
            std::vector<std::string> ns;
            std::vector<DbValue> vs;
            ns.reserve(n);
            vs.reserve(n);
            for (size_t i = 0; i < n; ++i) {
                ns.emplace_back(view(names[i]));
                switch (vals[i].type) {
                    case ATELIER_VALUE_INT: vs.emplace_back(vals[i].i); break;
                    case ATELIER_VALUE_REAL: vs.emplace_back(vals[i].r); break;
                    case ATELIER_VALUE_TEXT:
                    case ATELIER_VALUE_BLOB: vs.emplace_back(std::string(view(vals[i].s))); break;
                    default: vs.emplace_back(nullptr);
                }
            }
            col->rows.emplace_back(std::move(ns), std::move(vs));
            return 0;
        };
        int rc = api_->db_query(ctx_, txn_, str(sql), values.data(), values.size(), onRow, &c);
        if (rc != ATELIER_OK) fail(rc);
        return std::move(c.rows);
    }
    std::optional<Row> one(std::string_view sql, const std::vector<Param>& params = {}) const {
        auto rows = query(sql, params);
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    }
    // Runs fn(Db&) inside a write transaction; an exception or false return rolls back.
    template <typename Fn>
    void transaction(Fn&& fn) const {
        if (txn_) {  // already inside one: run inline
            fn(*this);
            return;
        }
        require(&atelier_host_v1::db_transaction, "db_transaction");
        struct Ctx {
            const Db* self;
            std::remove_reference_t<Fn>* fn;  // Fn may be deduced as an lvalue reference
            std::exception_ptr error;
        } c{this, &fn, nullptr};
        auto cb = [](void* ud, atelier_db_txn* txn) -> int {
            auto* cc = static_cast<Ctx*>(ud);
            try {
                Db inner(cc->self->api_, cc->self->ctx_, txn);
                (*cc->fn)(inner);
                return ATELIER_OK;
            } catch (...) {
                cc->error = std::current_exception();
                return ATELIER_ERR_INTERNAL;
            }
        };
        int rc = api_->db_transaction(ctx_, cb, &c);
        if (c.error) std::rethrow_exception(c.error);
        if (rc != ATELIER_OK) fail(rc);
    }
    std::string lastError() const {
        std::string out;
        if (hostHas(api_, &atelier_host_v1::db_last_error)) api_->db_last_error(ctx_, appendSink, &out);
        return out;
    }
    bool inTransaction() const { return txn_ != nullptr; }
    // The engine statements run on (atelier_db_engine), for the few statements that differ.
    int engine() const {
        require(&atelier_host_v1::db_engine, "db_engine");
        return api_->db_engine(ctx_);
    }

private:
    template <typename F>
    void require(F atelier_host_v1::*fn, const char* name) const {
        if (!hostHas(api_, fn))
            throw DbError(ATELIER_ERR_UNSUPPORTED, std::string("the host does not offer ") + name + " (host ABI " +
                                                       std::to_string(api_ ? api_->abi_major : 0) + "." +
                                                       std::to_string(api_ ? api_->abi_minor : 0) + ")");
    }
    static std::vector<atelier_value> bind(const std::vector<Param>& params) {
        std::vector<atelier_value> out(params.size());
        for (size_t i = 0; i < params.size(); ++i) {
            const auto& v = params[i].v;
            atelier_value& a = out[i];
            if (auto p = std::get_if<int64_t>(&v)) {
                a.type = ATELIER_VALUE_INT;
                a.i = *p;
            } else if (auto d = std::get_if<double>(&v)) {
                a.type = ATELIER_VALUE_REAL;
                a.r = *d;
            } else if (auto s = std::get_if<std::string>(&v)) {
                a.type = ATELIER_VALUE_TEXT;
                a.s = str(*s);
            } else {
                a.type = ATELIER_VALUE_NULL;
            }
        }
        return out;
    }
    [[noreturn]] void fail(int rc) const { throw DbError(rc, lastError()); }

    const atelier_host_v1* api_ = nullptr;
    atelier_module_ctx* ctx_ = nullptr;
    atelier_db_txn* txn_ = nullptr;
};

// ------------------------------------------------------------------ events

struct Event {
    int64_t id = 0;
    std::string type;
    std::string projectId;
    std::string ticketId;
    int64_t ticketNumber = 0;
    std::string commentId;
    std::string actorId;
    std::string actorType = "system";
    std::string sessionId;
    std::string payload = "{}";  // JSON text
    std::string createdAt;

    static Event fromAbi(const atelier_event* e) {
        Event out;
        out.id = e->id;
        out.type = std::string(view(e->event_type));
        out.projectId = std::string(view(e->project_id));
        out.ticketId = std::string(view(e->ticket_id));
        out.ticketNumber = e->ticket_number;
        out.commentId = std::string(view(e->comment_id));
        out.actorId = std::string(view(e->actor_id));
        out.actorType = std::string(view(e->actor_type));
        out.sessionId = std::string(view(e->session_id));
        out.payload = std::string(view(e->payload));
        out.createdAt = std::string(view(e->created_at));
        return out;
    }
    atelier_event toAbi() const {
        auto e = initStruct<atelier_event>();
        e.id = id;
        e.event_type = str(type);
        e.project_id = str(projectId);
        e.ticket_id = str(ticketId);
        e.ticket_number = ticketNumber;
        e.comment_id = str(commentId);
        e.actor_id = str(actorId);
        e.actor_type = str(actorType);
        e.session_id = str(sessionId);
        e.payload = str(payload);
        e.created_at = str(createdAt);
        return e;
    }
    JsonObject payloadJson() const {
        try {
            return Poco::JSON::Parser().parse(payload.empty() ? "{}" : payload).extract<JsonObject>();
        } catch (...) {
            return makeObject();
        }
    }
};

using EventHandler = std::function<void(const Event&)>;

// ------------------------------------------------------------------ hooks

// What a hook handler decides: keep the payload, replace it, or veto.
struct HookOutcome {
    enum class Kind { Keep, Replace, Veto } kind = Kind::Keep;
    std::string value;  // new payload (Replace) or reason (Veto)
    static HookOutcome keep() { return {}; }
    static HookOutcome replace(std::string payload) { return {Kind::Replace, std::move(payload)}; }
    static HookOutcome replace(const JsonObject& payload) { return {Kind::Replace, toJson(payload)}; }
    static HookOutcome veto(std::string reason) { return {Kind::Veto, std::move(reason)}; }
};
using HookHandler = std::function<HookOutcome(std::string_view payload)>;

struct HookRun {
    bool vetoed = false;
    std::string payload;  // final payload, or the veto reason
    JsonObject json() const {
        try {
            return Poco::JSON::Parser().parse(payload).extract<JsonObject>();
        } catch (...) {
            return makeObject();
        }
    }
};

// ------------------------------------------------------------------ the module context

// Everything a module registers goes through here; it owns the callback closures so their
// addresses stay valid for the module's lifetime.
class Module {
public:
    virtual ~Module() = default;
    // Register routes, hooks, migrations. Throw to refuse loading.
    virtual void init() = 0;
    virtual void start() {}
    virtual void stop() {}

    const Host& host() const { return host_; }
    Db db() const { return Db(host_.api(), host_.ctx()); }

    // ---- routes
    using Handler = std::function<void(Request&, Response&)>;
    void route(std::string_view method, std::string_view pattern, std::string_view summary, Handler h) {
        auto& stored = handlers_.emplace_back(HandlerEntry{std::move(h), this});
        int rc = host_.api()->route_add(host_.ctx(), str(method), str(pattern), str(summary), &Module::dispatch, &stored);
        if (rc != ATELIER_OK) throw std::runtime_error("route_add failed for " + std::string(method) + " " + std::string(pattern));
    }
    void get(std::string_view p, std::string_view s, Handler h) { route("GET", p, s, std::move(h)); }
    void post(std::string_view p, std::string_view s, Handler h) { route("POST", p, s, std::move(h)); }
    void put(std::string_view p, std::string_view s, Handler h) { route("PUT", p, s, std::move(h)); }
    void patch(std::string_view p, std::string_view s, Handler h) { route("PATCH", p, s, std::move(h)); }
    void del(std::string_view p, std::string_view s, Handler h) { route("DELETE", p, s, std::move(h)); }

    void websocket(std::string_view pattern, WsHandlers handlers) {
        auto& stored = wsHandlers_.emplace_back(WsEntry{std::move(handlers), host_.api()});
        static const atelier_ws_callbacks callbacks = [] {
            auto c = initStruct<atelier_ws_callbacks>();
            c.on_open = &Module::wsOpen;
            c.on_message = &Module::wsMessage;
            c.on_close = &Module::wsClose;
            return c;
        }();
        int rc = host_.api()->ws_route_add(host_.ctx(), str(pattern), &callbacks, &stored);
        if (rc != ATELIER_OK) throw std::runtime_error("ws_route_add failed for " + std::string(pattern));
    }

    // ---- migrations: portable steps, versions 1..n in order
    void migrate(const std::vector<std::string>& steps) {
        std::vector<Migration> ms;
        for (size_t i = 0; i < steps.size(); ++i)
            ms.push_back(Migration{static_cast<int64_t>(i + 1), steps[i], ATELIER_DB_ANY});
        migrateSteps(ms);
    }
    // Steps with explicit versions and engines: the host applies those for its engine. (Its own
    // name: a `migrate` overload taking Migration makes `migrate({"a", "b"})` ambiguous.)
    void migrateSteps(const std::vector<Migration>& steps) {
        if (!hostHas(host_.api(), &atelier_host_v1::db_migrate))
            throw std::runtime_error("the host does not offer db_migrate");
        std::vector<atelier_migration> ms;
        for (const auto& step : steps) {
            auto m = initStruct<atelier_migration>();
            m.version = step.version;
            m.sql = str(step.sql);
            m.engine = step.engine;
            ms.push_back(m);
        }
        int rc = host_.api()->db_migrate(host_.ctx(), ms.data(), ms.size());
        if (rc != ATELIER_OK) throw std::runtime_error("migration failed: " + db().lastError());
    }

    // ---- events
    int64_t publish(const Event& e) const {
        auto abi = e.toAbi();
        int64_t id = 0;
        int rc = host_.api()->event_publish(host_.ctx(), &abi, &id);
        if (rc != ATELIER_OK) throw DbError(rc, "event publish failed");
        return id;
    }
    int64_t subscribe(std::string_view pattern, EventHandler h) {
        std::lock_guard lock(regMutex_);
        auto& stored = eventHandlers_.emplace_back(std::move(h));
        return host_.api()->event_subscribe(host_.ctx(), str(pattern), &Module::onEvent, &stored);
    }
    void unsubscribe(int64_t id) { host_.api()->event_unsubscribe(host_.ctx(), id); }
    // Persisted events after `afterId` (oldest first).
    std::vector<Event> replay(int64_t afterId, std::string_view pattern = {}, int64_t limit = 1000) const {
        std::vector<Event> out;
        auto cb = [](void* ud, const atelier_event* e) { static_cast<std::vector<Event>*>(ud)->push_back(Event::fromAbi(e)); };
        host_.api()->event_replay(host_.ctx(), afterId, str(pattern), limit, cb, &out);
        return out;
    }

    // ---- hooks
    void hook(std::string_view name, int priority, HookHandler h) {
        auto& stored = hookHandlers_.emplace_back(HookEntry{std::move(h), host_.api()});
        int rc = host_.api()->hook_register(host_.ctx(), str(name), priority, &Module::onHook, &stored);
        if (rc != ATELIER_OK) throw std::runtime_error("hook_register failed for " + std::string(name));
    }
    HookRun runHook(std::string_view name, std::string_view payload) const {
        HookRun r;
        int rc = host_.api()->hook_run(host_.ctx(), str(name), str(payload), appendSink, &r.payload);
        r.vetoed = rc == ATELIER_ERR_VETOED;
        if (!r.vetoed && r.payload.empty()) r.payload = std::string(payload);
        return r;
    }
    HookRun runHook(std::string_view name, const JsonObject& payload) const { return runHook(name, toJson(payload)); }

    // ---- timers
    int64_t timer(uint64_t delayMs, uint64_t intervalMs, std::function<void()> fn) {
        std::lock_guard lock(regMutex_);
        auto& stored = timerHandlers_.emplace_back(TimerEntry{std::move(fn), this});
        return host_.api()->timer_add(host_.ctx(), delayMs, intervalMs, &Module::onTimer, &stored);
    }
    void cancelTimer(int64_t id) { host_.api()->timer_cancel(host_.ctx(), id); }

    // Used by the entry glue.
    void attach(const atelier_host_v1* api, atelier_module_ctx* ctx) { host_ = Host(api, ctx); }

private:
    struct HandlerEntry {
        Handler h;
        Module* self;
    };
    struct WsEntry {
        WsHandlers h;
        const atelier_host_v1* api;
    };
    struct HookEntry {
        HookHandler h;
        const atelier_host_v1* api;
    };
    struct TimerEntry {
        std::function<void()> fn;
        Module* self;
    };

    static void dispatch(void* ud, const atelier_request* req, atelier_response* res);
    static int wsOpen(void* ud, atelier_websocket* ws, const atelier_request* req) {
        auto* e = static_cast<WsEntry*>(ud);
        try {
            if (!e->h.onOpen) return 0;
            Request r(e->api, req);
            return e->h.onOpen(WebSocket(e->api, ws, false), r);
        } catch (...) {
            return 1011;
        }
    }
    static void wsMessage(void* ud, atelier_websocket* ws, const char* data, size_t len, int binary) {
        auto* e = static_cast<WsEntry*>(ud);
        try {
            if (e->h.onMessage) e->h.onMessage(WebSocket(e->api, ws, false), std::string_view(data, len), binary != 0);
        } catch (...) {
        }
    }
    static void wsClose(void* ud, atelier_websocket* ws, int code) {
        auto* e = static_cast<WsEntry*>(ud);
        try {
            if (e->h.onClose) e->h.onClose(WebSocket(e->api, ws, false), code);
        } catch (...) {
        }
    }
    static void onEvent(void* ud, const atelier_event* e) {
        try {
            (*static_cast<EventHandler*>(ud))(Event::fromAbi(e));
        } catch (...) {
        }
    }
    static void onHook(void* ud, atelier_str payload, atelier_hook_result* result) {
        auto* e = static_cast<HookEntry*>(ud);
        try {
            HookOutcome o = e->h(view(payload));
            if (o.kind == HookOutcome::Kind::Replace) e->api->hook_result_set_payload(result, str(o.value));
            else if (o.kind == HookOutcome::Kind::Veto) e->api->hook_result_veto(result, str(o.value));
        } catch (const std::exception& ex) {
            e->api->hook_result_veto(result, str(std::string("hook handler failed: ") + ex.what()));
        } catch (...) {
            e->api->hook_result_veto(result, str("hook handler failed"));
        }
    }
    static void onTimer(void* ud) {
        auto* t = static_cast<TimerEntry*>(ud);
        try {
            t->fn();
        } catch (const std::exception& ex) {
            t->self->host_.error(std::string("timer failed: ") + ex.what());
        } catch (...) {
        }
    }

    Host host_;
    std::mutex regMutex_;
    std::deque<HandlerEntry> handlers_;
    std::deque<WsEntry> wsHandlers_;
    std::deque<EventHandler> eventHandlers_;
    std::deque<HookEntry> hookHandlers_;
    std::deque<TimerEntry> timerHandlers_;
};

inline void Module::dispatch(void* ud, const atelier_request* req, atelier_response* res) {
    auto* entry = static_cast<HandlerEntry*>(ud);
    Module* self = entry->self;
    const atelier_host_v1* api = self->host_.api();
    Request rq(api, req);
    Response rs(api, res);
    try {
        entry->h(rq, rs);
    } catch (const HttpError& e) {
        rs.error(e.status(), e.code(), e.what(), e.details(), e.extra);
    } catch (const DbError& e) {
        if (e.status() == ATELIER_ERR_CONFLICT) {
            rs.error(409, "CONFLICT", "The change conflicts with existing data");
        } else if (e.status() == ATELIER_ERR_CONSTRAINT) {
            rs.error(409, "CONSTRAINT_VIOLATION", "The change violates a constraint of the stored data");
        } else if (e.status() == ATELIER_ERR_UNSUPPORTED) {
            self->host_.warn(e.what());
            rs.error(501, "UNSUPPORTED_BY_HOST", "This host does not offer what the route needs");
        } else if (e.status() == ATELIER_ERR_BUSY) {
            rs.error(503, "DATABASE_BUSY", "The database is busy; retry");
        } else {
            self->host_.error(std::string("database error: ") + e.what());
            rs.error(500, "INTERNAL_ERROR", "Internal database error");
        }
    } catch (const Poco::Exception& e) {
        self->host_.error(std::string("handler failed: ") + e.displayText());
        rs.error(500, "INTERNAL_ERROR", "Internal error");
    } catch (const std::exception& e) {
        self->host_.error(std::string("handler failed: ") + e.what());
        rs.error(500, "INTERNAL_ERROR", "Internal error");
    } catch (...) {
        rs.error(500, "INTERNAL_ERROR", "Internal error");
    }
}

// Glue between the C entry table and a Module subclass.
struct ModuleGlue {
    template <typename M>
    static int init(const atelier_host_v1* api, atelier_module_ctx* ctx, void** state) {
        try {
            if (!api || api->abi_major != ATELIER_ABI_MAJOR) return ATELIER_ERR_UNSUPPORTED;
            // Through a variable: with the default 0 a literal comparison would be always false.
            const unsigned needed = ATELIER_MIN_ABI_MINOR;
            if (api->abi_minor < needed) {  // the host should have refused already
                api->set_error(ctx, str("needs ABI " + std::to_string(ATELIER_ABI_MAJOR) + "." +
                                        std::to_string(ATELIER_MIN_ABI_MINOR) + ", host offers " +
                                        std::to_string(api->abi_major) + "." + std::to_string(api->abi_minor)));
                return ATELIER_ERR_UNSUPPORTED;
            }
            auto* m = new M();
            m->attach(api, ctx);
            *state = m;
            try {
                m->init();
            } catch (const std::exception& e) {
                api->set_error(ctx, str(e.what()));
                delete m;
                *state = nullptr;
                return ATELIER_ERR_INTERNAL;
            }
            return ATELIER_OK;
        } catch (...) {
            api->set_error(ctx, str("init threw"));
            return ATELIER_ERR_INTERNAL;
        }
    }
    static int start(void* state) {
        auto* m = static_cast<Module*>(state);
        try {
            m->start();
            return ATELIER_OK;
        } catch (const std::exception& e) {
            m->host().setError(e.what());
            return ATELIER_ERR_INTERNAL;
        } catch (...) {
            return ATELIER_ERR_INTERNAL;
        }
    }
    static void stop(void* state) {
        try {
            static_cast<Module*>(state)->stop();
        } catch (...) {
        }
    }
    static void destroy(void* state) {
        try {
            delete static_cast<Module*>(state);
        } catch (...) {
        }
    }
};

}  // namespace atelier

// Defines the exported entry symbol for module class `Class`. The remaining arguments are
// the id, version, description and a braced list of atelier_requirement (may be empty {}).
#define ATELIER_MODULE(Class, Id, Version, Description, ...)                                       \
    namespace {                                                                                     \
    const atelier_requirement atelierRequirements_[] = {{nullptr, nullptr, nullptr}, __VA_ARGS__}; \
    }                                                                                               \
    extern "C" ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {              \
        static const atelier_module_v1 table = [] {                                                 \
            auto t = ::atelier::initStruct<atelier_module_v1>();                                    \
            t.id = Id;                                                                              \
            t.version = Version;                                                                    \
            t.description = Description;                                                            \
            t.requires_list = atelierRequirements_ + 1;                                             \
            t.requires_count = sizeof(atelierRequirements_) / sizeof(atelierRequirements_[0]) - 1;  \
            t.min_abi_minor = ATELIER_MIN_ABI_MINOR;                                                \
            t.init = &::atelier::ModuleGlue::init<Class>;                                           \
            t.start = &::atelier::ModuleGlue::start;                                                \
            t.stop = &::atelier::ModuleGlue::stop;                                                  \
            t.destroy = &::atelier::ModuleGlue::destroy;                                            \
            return t;                                                                               \
        }();                                                                                        \
        return &table;                                                                              \
    }
