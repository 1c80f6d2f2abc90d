// Atelier C++ SDK: the module-side layer over abi.h. Header-only; compiled into each module.
// Nothing here crosses the ABI: every callback the host sees is a plain C function that
// catches every exception and turns it into an error status or an error response.
#pragma once

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <atelier/abi.h>

#include <algorithm>
#include <atomic>
#include <cctype>
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

// [{"field", "message"}, …]
inline JsonArray detailsArray(const std::vector<ErrorDetail>& details) {
    JsonArray arr = makeArray();
    for (auto& d : details) {
        JsonObject e = makeObject();
        e->set("field", d.field);
        e->set("message", d.message);
        arr->add(e);
    }
    return arr;
}

inline std::string errorBody(int /*status*/, std::string_view code, std::string_view message,
                             const std::vector<ErrorDetail>& details = {}, JsonObject extra = nullptr) {
    JsonObject o = makeObject();
    o->set("success", false);
    o->set("error", std::string(message));
    o->set("code", std::string(code));
    if (!details.empty()) o->set("details", detailsArray(details));
    if (extra) {
        for (auto& [k, v] : *extra) o->set(k, v);
    }
    return toJson(o);
}

// ------------------------------------------------------------------ API flavors

// Names of the atelier_flavor values, in enum order (the X-Atelier-Flavor header, the
// `flavor` of a listener, /api/openapi.json?flavor=).
inline constexpr std::string_view kFlavorNames[] = {"atelier", "kombuse", "openkit", "kanban", "abbado", "krowforge"};
inline constexpr int kFlavorCount = static_cast<int>(sizeof(kFlavorNames) / sizeof(kFlavorNames[0]));

inline std::string_view flavorName(int flavor) {
    return flavor >= 0 && flavor < kFlavorCount ? kFlavorNames[flavor] : kFlavorNames[ATELIER_FLAVOR_ATELIER];
}
// "atelier, kombuse, …" for messages that list the valid names.
inline std::string flavorNameList() {
    std::string out;
    for (auto n : kFlavorNames) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}
// The flavor a name denotes (case-insensitive), or -1.
inline int flavorFromName(std::string_view name) {
    for (int f = 0; f < kFlavorCount; ++f) {
        auto n = kFlavorNames[f];
        if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
            }))
            return f;
    }
    return -1;
}

// A route's flavor set: Flavors{} is the default route; flavors(ATELIER_FLAVOR_KANBAN, …)
// restricts the route to those flavors and lets it win over the default one.
struct Flavors {
    uint32_t mask = ATELIER_FLAVORS_DEFAULT;
};
template <typename... F>
constexpr Flavors flavors(F... f) {
    return Flavors{(0u | ... | ATELIER_FLAVOR_BIT(f))};
}

inline std::string_view defaultErrorCode(int status) {
    switch (status) {
        case 400:
            return "BAD_REQUEST";
        case 401:
            return "UNAUTHORIZED";
        case 403:
            return "FORBIDDEN";
        case 404:
            return "NOT_FOUND";
        case 405:
            return "METHOD_NOT_ALLOWED";
        case 409:
            return "CONFLICT";
        case 413:
            return "PAYLOAD_TOO_LARGE";
        case 422:
            return "UNPROCESSABLE_ENTITY";
        case 429:
            return "TOO_MANY_REQUESTS";
        case 503:
            return "SERVICE_UNAVAILABLE";
        default:
            return status >= 500 ? "INTERNAL_ERROR" : "ERROR";
    }
}

// The `details_json` argument of response_set_error: the bare details array, or an object
// holding it under "details" next to the extra top-level fields.
inline std::string errorDetailsJson(const std::vector<ErrorDetail>& details, const JsonObject& extra = nullptr) {
    JsonArray arr = detailsArray(details);
    if (!extra || extra->size() == 0) return details.empty() ? std::string() : toJson(arr);
    JsonObject o = makeObject();
    for (auto& [k, v] : *extra) o->set(k, v);
    if (!details.empty()) o->set("details", arr);
    return toJson(o);
}

// The reverse of errorDetailsJson; false when the text is neither empty nor one of its forms.
inline bool parseErrorDetails(std::string_view json, std::vector<ErrorDetail>& details, JsonObject& extra) {
    details.clear();
    extra = nullptr;
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return true;
    Poco::Dynamic::Var v;
    try {
        v = Poco::JSON::Parser().parse(std::string(json));
    } catch (...) {
        return false;
    }
    JsonArray arr;
    if (v.type() == typeid(JsonObject)) {
        auto o = v.extract<JsonObject>();
        extra = makeObject();
        for (auto& [k, val] : *o)
            if (k != "details") extra->set(k, val);
        if (o->has("details")) {
            arr = o->getArray("details");
            if (!arr) return false;
        }
    } else if (v.type() == typeid(JsonArray)) {
        arr = v.extract<JsonArray>();
    } else {
        return false;
    }
    for (size_t i = 0; arr && i < arr->size(); ++i) {
        auto e = arr->getObject(static_cast<unsigned>(i));
        if (!e) return false;
        details.push_back({e->optValue<std::string>("field", ""), e->optValue<std::string>("message", "")});
    }
    return true;
}

struct RenderedError {
    std::string body;
    std::string contentType;
};

// An error body in the shape the flavor's reference documents (see docs/flavors.md):
// atelier, openkit and kanban get the uniform shape; kombuse {"error": message} or, with
// validation details, {"error": [ZodIssue…]}; krowforge {"error": {code, message}}; abbado
// the message as plain text. Extra fields sit at the top level of every JSON shape.
inline RenderedError renderError(int flavor, int status, std::string_view code, std::string_view message,
                                 const std::vector<ErrorDetail>& details = {}, const JsonObject& extra = nullptr) {
    if (code.empty()) code = defaultErrorCode(status);
    auto withExtra = [&](JsonObject o) {
        if (extra)
            for (auto& [k, v] : *extra)
                if (!o->has(k)) o->set(k, v);
        return RenderedError{toJson(o), "application/json"};
    };
    switch (flavor) {
        case ATELIER_FLAVOR_KOMBUSE: {
            JsonObject o = makeObject();
            if (details.empty()) {
                o->set("error", std::string(message));
            } else {
                JsonArray issues = makeArray();  // Zod's issue shape: {code, path, message}
                for (auto& d : details) {
                    JsonObject issue = makeObject();
                    issue->set("code", "custom");
                    JsonArray path = makeArray();
                    if (!d.field.empty()) path->add(d.field);
                    issue->set("path", path);
                    issue->set("message", d.message);
                    issues->add(issue);
                }
                o->set("error", issues);
            }
            return withExtra(o);
        }
        case ATELIER_FLAVOR_KROWFORGE: {
            JsonObject err = makeObject();
            err->set("code", std::string(code));
            err->set("message", std::string(message));
            if (!details.empty()) err->set("details", detailsArray(details));
            JsonObject o = makeObject();
            o->set("error", err);
            return withExtra(o);
        }
        case ATELIER_FLAVOR_ABBADO:
            return RenderedError{std::string(message), "text/plain; charset=utf-8"};
        default:
            return RenderedError{errorBody(status, code, message, details, extra), "application/json"};
    }
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
    // A JSON document about the running host (see atelier_host_v1::host_describe); empty
    // when `what` is unknown.
    std::string describe(std::string_view what) const {
        std::string out;
        if (api_->host_describe(ctx_, str(what), appendSink, &out) != ATELIER_OK) return {};
        return out;
    }

    // One rendered message to a group of streams; `statuses` (optional, n entries) gets each
    // stream's write status.
    void writeStreams(atelier_stream* const* streams, size_t n, std::string_view data, int* statuses = nullptr) const {
        if (n) api_->stream_write_group(streams, n, str(data), statuses);
    }
    // The same messages (one frame each) to a group of WebSockets.
    void sendWebSockets(atelier_websocket* const* sockets, size_t n, const std::vector<std::string_view>& messages,
                        int* statuses = nullptr) const {
        if (!n || messages.empty()) return;
        std::vector<atelier_str> views;
        views.reserve(messages.size());
        for (auto m : messages) views.push_back(str(m));
        api_->ws_send_group(sockets, n, views.data(), views.size(), 0, statuses);
    }

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
    // The request's flavor (atelier_flavor); the default flavor on a host without flavors.
    int flavor() const {
        return ATELIER_HAS_FIELD(api_, atelier_host_v1, request_flavor) && api_->request_flavor
                   ? api_->request_flavor(req_)
                   : ATELIER_FLAVOR_ATELIER;
    }

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
    // Bytes queued and not yet sent; -1 once closed (or when empty).
    int64_t buffered() const { return s_ ? api_->stream_buffered(s_, nullptr) : -1; }
    // How much the host buffers for this client before closing it as too slow (0 when empty).
    int64_t capacity() const {
        int64_t cap = 0;
        if (s_) api_->stream_buffered(s_, &cap);
        return cap;
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
    // An error in the request's flavor shape (the host renders it; see renderError).
    Response& error(int status, std::string_view code, std::string_view message,
                    const std::vector<ErrorDetail>& details = {}, JsonObject extra = nullptr) {
        if (ATELIER_HAS_FIELD(api_, atelier_host_v1, response_set_error) && api_->response_set_error) {
            std::string d = errorDetailsJson(details, extra);
            api_->response_set_error(res_, status, str(code), str(message), str(d));
            return *this;
        }
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

// Whether an event type matches a subscription pattern: exact, "prefix.*" or "*" (empty = all).
inline bool eventTypeMatches(std::string_view pattern, std::string_view type) {
    if (pattern.empty() || pattern == "*") return true;
    if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*")
        return type.size() >= pattern.size() - 1 &&
               type.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
    return pattern == type;
}
// The same for a comma-separated list of patterns (empty = all).
inline bool eventTypeMatchesAny(std::string_view patterns, std::string_view type) {
    if (patterns.empty()) return true;
    while (true) {
        auto comma = patterns.find(',');
        if (eventTypeMatches(patterns.substr(0, comma), type)) return true;
        if (comma == std::string_view::npos) return false;
        patterns.remove_prefix(comma + 1);
    }
}

// The bus's envelope (see atelier_event). Domain fields live in `payload`; `subject` names
// what the event is about ("ticket/42"). The one mapping between the C struct and C++.
struct Event {
    int64_t id = 0;
    std::string type;
    std::string subject;
    std::string projectId;
    std::string actorId;
    std::string actorType = "system";
    std::string payload = "{}";  // JSON text
    std::string createdAt;

    static Event fromAbi(const atelier_event* e) {
        Event out;
        out.id = e->id;
        out.type = std::string(view(e->type));
        auto field = [&](const atelier_str& s) { return std::string(view(s)); };
        if (ATELIER_HAS_FIELD(e, atelier_event, subject)) out.subject = field(e->subject);
        if (ATELIER_HAS_FIELD(e, atelier_event, project_id)) out.projectId = field(e->project_id);
        if (ATELIER_HAS_FIELD(e, atelier_event, actor_id)) out.actorId = field(e->actor_id);
        if (ATELIER_HAS_FIELD(e, atelier_event, actor_type)) out.actorType = field(e->actor_type);
        if (ATELIER_HAS_FIELD(e, atelier_event, payload)) out.payload = field(e->payload);
        if (ATELIER_HAS_FIELD(e, atelier_event, created_at)) out.createdAt = field(e->created_at);
        return out;
    }
    // A view of this event: valid while the Event lives and is not modified.
    atelier_event toAbi() const {
        auto e = initStruct<atelier_event>();
        e.id = id;
        e.type = str(type);
        e.subject = str(subject);
        e.project_id = str(projectId);
        e.actor_id = str(actorId);
        e.actor_type = str(actorType);
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
    // Sets one top-level payload field: domain fields (a ticket number, a comment id) travel there.
    Event& set(const std::string& key, const Poco::Dynamic::Var& value) {
        auto o = payloadJson();
        o->set(key, value);
        payload = toJson(o);
        return *this;
    }
    // A top-level payload field as text; empty when absent or null.
    std::string field(const std::string& key) const {
        auto o = payloadJson();
        if (!o->has(key) || o->isNull(key)) return {};
        return o->get(key).toString();
    }
};

// A query over the persisted events (see atelier_event_query); empty fields do not filter.
struct EventQuery {
    int64_t afterId = 0;
    int64_t maxId = 0;
    std::string types;  // comma-separated patterns: "ticket.created", "ticket.*", "*"
    std::string subject, projectId, actorId, actorType, since;
    int64_t limit = 100;
    int64_t offset = 0;
    bool newestFirst = false;
    atelier_event_query toAbi() const {
        auto q = initStruct<atelier_event_query>();
        q.after_id = afterId;
        q.max_id = maxId;
        q.types = str(types);
        q.subject = str(subject);
        q.project_id = str(projectId);
        q.actor_id = str(actorId);
        q.actor_type = str(actorType);
        q.since = str(since);
        q.limit = limit;
        q.offset = offset;
        q.newest_first = newestFirst ? 1 : 0;
        return q;
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
    // A route for `fl` (default: the route every flavor without its own gets).
    void route(std::string_view method, std::string_view pattern, std::string_view summary, Flavors fl, Handler h) {
        auto& stored = handlers_.emplace_back(HandlerEntry{std::move(h), this});
        auto d = initStruct<atelier_route_desc>();
        d.method = str(method);
        d.pattern = str(pattern);
        d.summary = str(summary);
        d.flavors = fl.mask;
        d.handler = &Module::dispatch;
        d.user_data = &stored;
        int rc = host_.api()->route_add(host_.ctx(), &d);
        if (rc != ATELIER_OK) throw std::runtime_error("route_add failed for " + std::string(method) + " " + std::string(pattern));
    }
    void route(std::string_view method, std::string_view pattern, std::string_view summary, Handler h) {
        route(method, pattern, summary, Flavors{}, std::move(h));
    }
    void get(std::string_view p, std::string_view s, Handler h) { route("GET", p, s, std::move(h)); }
    void post(std::string_view p, std::string_view s, Handler h) { route("POST", p, s, std::move(h)); }
    void put(std::string_view p, std::string_view s, Handler h) { route("PUT", p, s, std::move(h)); }
    void patch(std::string_view p, std::string_view s, Handler h) { route("PATCH", p, s, std::move(h)); }
    void del(std::string_view p, std::string_view s, Handler h) { route("DELETE", p, s, std::move(h)); }
    void get(std::string_view p, std::string_view s, Flavors f, Handler h) { route("GET", p, s, f, std::move(h)); }
    void post(std::string_view p, std::string_view s, Flavors f, Handler h) { route("POST", p, s, f, std::move(h)); }
    void put(std::string_view p, std::string_view s, Flavors f, Handler h) { route("PUT", p, s, f, std::move(h)); }
    void patch(std::string_view p, std::string_view s, Flavors f, Handler h) { route("PATCH", p, s, f, std::move(h)); }
    void del(std::string_view p, std::string_view s, Flavors f, Handler h) { route("DELETE", p, s, f, std::move(h)); }

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
        int rc = host_.api()->event_replay(host_.ctx(), afterId, str(pattern), limit, &Module::collectEvent, &out);
        if (rc != ATELIER_OK) throw DbError(rc, "event replay failed");
        return out;
    }
    // Persisted events matching `q`; `total` (optional) gets the count without limit/offset.
    std::vector<Event> queryEvents(const EventQuery& q, int64_t* total = nullptr) const {
        std::vector<Event> out;
        auto abi = q.toAbi();
        int rc = host_.api()->event_query(host_.ctx(), &abi, &Module::collectEvent, &out, total);
        if (rc != ATELIER_OK)
            throw DbError(rc, rc == ATELIER_ERR_INVALID ? "invalid event query" : "event query failed");
        return out;
    }
    // Id of the newest persisted event (0 when none).
    int64_t lastEventId() const { return host_.api()->event_last_id(host_.ctx()); }

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
    static void collectEvent(void* ud, const atelier_event* e) {
        static_cast<std::vector<Event>*>(ud)->push_back(Event::fromAbi(e));
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

// The module's identity, generated from its module.json by atelier_add_module()
// (sdk/cmake/AtelierModule.cmake). Code built another way defines the ATELIER_MANIFEST_*
// macros itself before ATELIER_MODULE.
#if __has_include(<atelier_module_manifest.h>)
#include <atelier_module_manifest.h>
#endif

namespace atelier {
inline atelier_requirement makeRequirement(const char* id, const char* minVersion, const char* maxVersion) {
    atelier_requirement r{};
    r.id = id;
    r.min_version = minVersion;
    r.max_version = maxVersion;
    return r;
}
}  // namespace atelier

#define ATELIER_MODULE_REQUIREMENT_(Id, Min, Max) ::atelier::makeRequirement(Id, Min, Max),

// Defines the exported entry symbol for module class `Class`, with the id, version,
// description and requirements of the manifest (ATELIER_MANIFEST_*).
#define ATELIER_MODULE(Class)                                                                                    \
    namespace {                                                                                                  \
    const atelier_requirement atelierRequirements_[] = {::atelier::makeRequirement(nullptr, nullptr, nullptr),   \
                                                        ATELIER_MANIFEST_REQUIRES(ATELIER_MODULE_REQUIREMENT_)}; \
    }                                                                                                            \
    extern "C" ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {                           \
        static const atelier_module_v1 table = [] {                                                              \
            auto t = ::atelier::initStruct<atelier_module_v1>();                                                 \
            t.id = ATELIER_MANIFEST_ID;                                                                          \
            t.version = ATELIER_MANIFEST_VERSION;                                                                \
            t.description = ATELIER_MANIFEST_DESCRIPTION;                                                        \
            t.requires_list = atelierRequirements_ + 1;                                                          \
            t.requires_count = sizeof(atelierRequirements_) / sizeof(atelierRequirements_[0]) - 1;               \
            t.min_abi_minor = ATELIER_MIN_ABI_MINOR;                                                             \
            t.init = &::atelier::ModuleGlue::init<Class>;                                                        \
            t.start = &::atelier::ModuleGlue::start;                                                             \
            t.stop = &::atelier::ModuleGlue::stop;                                                               \
            t.destroy = &::atelier::ModuleGlue::destroy;                                                         \
            return t;                                                                                            \
        }();                                                                                                     \
        return &table;                                                                                           \
    }
