// The atelier_host_v1 table: every function a module can call. Each one validates its
// arguments, never throws across the boundary, and attributes work to the calling module.
#include <atelier/abi.h>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <filesystem>

#include "host.hpp"
#include "module_manager.hpp"

namespace atelier::host {

namespace {

std::string_view sv(atelier_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
std::string cp(atelier_str s) { return std::string(sv(s)); }
atelier_str as(const std::string& s) { return atelier_str{s.data(), s.size()}; }
constexpr atelier_str kEmpty{nullptr, 0};

bool validCtx(atelier_module_ctx* c) { return c && c->host && c->module; }

const std::string* findParam(const route::Params& ps, std::string_view name) {
    for (auto& [k, v] : ps)
        if (k == name) return &v;
    return nullptr;
}
const std::string* findHeader(const atelier_request* r, std::string_view name) {
    for (auto& [k, v] : r->headers) {
        if (k.size() != name.size()) continue;
        bool eq = true;
        for (size_t i = 0; i < k.size() && eq; ++i)
            eq = k[i] == static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
        if (eq) return &v;
    }
    return nullptr;
}

void hLog(atelier_module_ctx* c, int level, atelier_str msg) {
    if (!validCtx(c)) return;
    c->host->log().log(level, c->module->id, cp(msg));
}
void hSetError(atelier_module_ctx* c, atelier_str msg) {
    if (!validCtx(c)) return;
    std::lock_guard lock(c->module->errorMutex);
    c->module->error = cp(msg);
}
void hConfigGet(atelier_module_ctx* c, atelier_sink sink, void* sd) {
    if (!validCtx(c) || !sink) return;
    const std::string& cfg = c->module->config;
    sink(sd, cfg.data(), cfg.size());
}
int hPathGet(atelier_module_ctx* c, int kind, atelier_sink sink, void* sd) {
    if (!validCtx(c) || !sink) return ATELIER_ERR_INVALID;
    std::string p;
    const auto& cfg = c->host->config();
    switch (kind) {
        case ATELIER_PATH_DATA_DIR: p = cfg.dataDir; break;
        case ATELIER_PATH_MODULE_DIR: {
            p = cfg.dataDir + "/modules/" + c->module->id;
            std::error_code ec;
            std::filesystem::create_directories(p, ec);
            break;
        }
        case ATELIER_PATH_START_DIR: p = cfg.startDir; break;
        default: return ATELIER_ERR_INVALID;
    }
    sink(sd, p.data(), p.size());
    return ATELIER_OK;
}

bool validMethod(std::string_view m) {
    static const char* ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (auto* o : ok)
        if (m == o) return true;
    return false;
}

int hRouteAdd(atelier_module_ctx* c, const atelier_route_desc* d) {
    if (!validCtx(c) || !d || d->abi_major != ATELIER_ABI_MAJOR ||
        !ATELIER_HAS_FIELD(d, atelier_route_desc, user_data) || !d->handler)
        return ATELIER_ERR_INVALID;
    if (!c->module->acceptingRegistrations) {
        c->host->log().log(Logger::Error, c->module->id, "route_add outside init is refused");
        return ATELIER_ERR_INVALID;
    }
    std::string m = cp(d->method), p = cp(d->pattern);
    constexpr uint32_t kKnownFlavors = (1u << kFlavorCount) - 1;
    if (!validMethod(m) || p.empty() || p[0] != '/' || (d->flavors & ~kKnownFlavors) != 0) return ATELIER_ERR_INVALID;
    if (c->host->router().exists(m, p, d->flavors)) {
        c->host->log().log(Logger::Error, c->module->id, "route already registered: " + m + " " + p);
        return ATELIER_ERR_CONFLICT;
    }
    c->host->router().add(
        RouteEntry{m, route::Pattern(p), cp(d->summary), d->handler, d->user_data, c->module, d->flavors});
    c->module->routeCount.fetch_add(1);
    return ATELIER_OK;
}

int hWsRouteAdd(atelier_module_ctx* c, atelier_str pattern, const atelier_ws_callbacks* cb, void* ud) {
    if (!validCtx(c) || !cb || !c->module->acceptingRegistrations) return ATELIER_ERR_INVALID;
    auto callbacks = initStruct<atelier_ws_callbacks>();
    // Read only the fields the module's struct actually has.
    if (ATELIER_HAS_FIELD(cb, atelier_ws_callbacks, on_open)) callbacks.on_open = cb->on_open;
    if (ATELIER_HAS_FIELD(cb, atelier_ws_callbacks, on_message)) callbacks.on_message = cb->on_message;
    if (ATELIER_HAS_FIELD(cb, atelier_ws_callbacks, on_close)) callbacks.on_close = cb->on_close;
    std::string p = cp(pattern);
    if (p.empty() || p[0] != '/') return ATELIER_ERR_INVALID;
    c->host->router().addWebSocket(WsRouteEntry{route::Pattern(p), callbacks, ud, c->module});
    c->module->routeCount.fetch_add(1);
    return ATELIER_OK;
}

atelier_str rqMethod(const atelier_request* r) { return r ? as(r->method) : kEmpty; }
atelier_str rqPath(const atelier_request* r) { return r ? as(r->path) : kEmpty; }
atelier_str rqQueryString(const atelier_request* r) { return r ? as(r->query) : kEmpty; }
atelier_str rqParam(const atelier_request* r, atelier_str name) {
    auto* v = r ? findParam(r->params, sv(name)) : nullptr;
    return v ? as(*v) : kEmpty;
}
int rqQueryHas(const atelier_request* r, atelier_str name) { return r && findParam(r->queryParams, sv(name)) ? 1 : 0; }
atelier_str rqQuery(const atelier_request* r, atelier_str name) {
    auto* v = r ? findParam(r->queryParams, sv(name)) : nullptr;
    return v ? as(*v) : kEmpty;
}
int rqHeaderHas(const atelier_request* r, atelier_str name) { return r && findHeader(r, sv(name)) ? 1 : 0; }
atelier_str rqHeader(const atelier_request* r, atelier_str name) {
    auto* v = r ? findHeader(r, sv(name)) : nullptr;
    return v ? as(*v) : kEmpty;
}
atelier_str rqBody(const atelier_request* r) { return r ? as(r->body) : kEmpty; }
atelier_str rqId(const atelier_request* r) { return r ? as(r->requestId) : kEmpty; }
void rqHeadersJson(const atelier_request* r, atelier_sink sink, void* sd) {
    if (!r || !sink) return;
    auto o = makeObject();
    for (auto& [k, v] : r->headers) {
        if (k == "authorization" || k == "cookie") continue;  // secrets stay in the host
        o->set(k, v);
    }
    auto s = atelier::toJson(o);
    sink(sd, s.data(), s.size());
}

int rqFlavor(const atelier_request* r) { return r ? r->flavor : ATELIER_FLAVOR_ATELIER; }

void rsStatus(atelier_response* r, int status) {
    if (!r) return;
    if (status < 100 || status > 599) status = 500;
    r->status = status;
    r->statusSet = true;
}
void rsHeader(atelier_response* r, atelier_str name, atelier_str value) {
    if (!r) return;
    std::string n = cp(name), v = cp(value);
    // No header injection: CR/LF are not allowed in names or values.
    if (n.empty() || n.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) return;
    for (auto& [k, existing] : r->headers) {
        if (Poco::icompare(k, n) == 0) {
            existing = v;
            return;
        }
    }
    r->headers.emplace_back(std::move(n), std::move(v));
}
void rsBody(atelier_response* r, atelier_str body) {
    if (r) r->body = cp(body);
}

Host* g_hostForStreams = nullptr;  // streams outlive calls; the host is a process singleton

void rsSetError(atelier_response* r, int status, atelier_str code, atelier_str message, atelier_str detailsJson) {
    if (!r) return;
    std::vector<ErrorDetail> details;
    JsonObject extra;
    if (!parseErrorDetails(sv(detailsJson), details, extra)) {
        if (g_hostForStreams)
            g_hostForStreams->log().log(Logger::Warn, "host",
                                        "response_set_error: details_json is not a details array or object; ignored");
        detailsJson = kEmpty;
    }
    setErrorResponse(*r, status, sv(code), sv(message), sv(detailsJson));
}

atelier_stream* rsStartStream(atelier_response* r, atelier_str contentType, atelier_stream_closed_fn onClosed, void* ud) {
    if (!r || !r->streamAllowed || r->stream) return nullptr;
    auto* s = new atelier_stream();
    s->onClosed = onClosed;
    s->userData = ud;
    r->stream = s;
    r->streamContentType = contentType.len ? cp(contentType) : std::string("text/event-stream");
    return s;
}

int stWrite(atelier_stream* s, atelier_str data) {
    if (!s) return ATELIER_ERR_INVALID;
    std::shared_ptr<Connection> conn;
    {
        std::lock_guard lock(s->mutex);
        if (s->closed || s->closeRequested) return ATELIER_ERR_CLOSED;
        if (!s->conn) {
            if (s->pending.size() + data.len > (64u << 20)) return ATELIER_ERR_FULL;
            s->pending.append(data.ptr ? data.ptr : "", data.len);
            return ATELIER_OK;
        }
        conn = s->conn;
    }
    return conn->write(sv(data));
}
void stClose(atelier_stream* s) {
    if (!s) return;
    std::shared_ptr<Connection> conn;
    {
        std::lock_guard lock(s->mutex);
        if (s->closed || s->closeRequested) return;
        s->closeRequested = true;
        conn = s->conn;
    }
    if (conn) conn->close(1000, "");
}
void stRelease(atelier_stream* s) {
    if (!s) return;
    if (g_hostForStreams) g_hostForStreams->releaseStream(s);
}
int64_t stBuffered(atelier_stream* s, int64_t* capacity) {
    if (capacity) *capacity = g_hostForStreams ? static_cast<int64_t>(g_hostForStreams->config().streamBufferBytes) : 0;
    if (!s) return -1;
    std::shared_ptr<Connection> conn;
    {
        std::lock_guard lock(s->mutex);
        if (s->closed || s->closeRequested) return -1;
        if (!s->conn) return static_cast<int64_t>(s->pending.size());
        conn = s->conn;
    }
    if (capacity) *capacity = static_cast<int64_t>(conn->capacity());
    return conn->closed() ? -1 : static_cast<int64_t>(conn->buffered());
}
int stWriteGroup(atelier_stream* const* streams, size_t n, atelier_str data, int* statuses) {
    if (!streams && n) return ATELIER_ERR_INVALID;
    for (size_t i = 0; i < n; ++i) {
        int rc = stWrite(streams[i], data);
        if (statuses) statuses[i] = rc;
    }
    return ATELIER_OK;
}

int wsSend(atelier_websocket* ws, atelier_str data, int binary) {
    if (!ws || !ws->conn) return ATELIER_ERR_INVALID;
    return ws->conn->sendFrame(binary ? 2 : 1, sv(data));
}
int wsSendGroup(atelier_websocket* const* sockets, size_t n, const atelier_str* messages, size_t nmessages, int binary,
                int* statuses) {
    if ((!sockets && n) || (!messages && nmessages)) return ATELIER_ERR_INVALID;
    // Framed once for every socket, sent with one write each.
    std::string frames;
    for (size_t k = 0; k < nmessages; ++k) frames += encodeWebSocketFrame(binary ? 2 : 1, sv(messages[k]));
    for (size_t i = 0; i < n; ++i) {
        int rc = !sockets[i] || !sockets[i]->conn ? ATELIER_ERR_INVALID
                 : frames.empty()                 ? ATELIER_OK
                                                  : sockets[i]->conn->write(frames);
        if (statuses) statuses[i] = rc;
    }
    return ATELIER_OK;
}
void wsClose(atelier_websocket* ws, int code, atelier_str reason) {
    if (!ws || !ws->conn) return;
    if (code < 1000 || code > 4999) code = 1000;
    ws->conn->close(code, sv(reason));
}
void wsRetain(atelier_websocket* ws) {
    if (ws) ws->refs.fetch_add(1);
}
void wsRelease(atelier_websocket* ws) { Host::releaseWebSocket(ws); }

int dbExec(atelier_module_ctx* c, atelier_db_txn* txn, atelier_str sql, const atelier_value* params, size_t n,
           atelier_db_result* result) {
    if (!validCtx(c)) return ATELIER_ERR_INVALID;
    atelier_db_result local = initStruct<atelier_db_result>();
    return c->host->storage().run(txn, cp(sql), params, n, nullptr, nullptr, result ? result : &local,
                                  Storage::Placeholders::PositionalOnly);
}
int dbQuery(atelier_module_ctx* c, atelier_db_txn* txn, atelier_str sql, const atelier_value* params, size_t n,
            atelier_row_fn fn, void* ud) {
    if (!validCtx(c) || !fn) return ATELIER_ERR_INVALID;
    return c->host->storage().run(txn, cp(sql), params, n, fn, ud, nullptr, Storage::Placeholders::PositionalOnly);
}
int dbTransaction(atelier_module_ctx* c, atelier_txn_fn fn, void* ud) {
    if (!validCtx(c) || !fn) return ATELIER_ERR_INVALID;
    return c->host->storage().transaction([&](void* db) { return fn(ud, static_cast<atelier_db_txn*>(db)); });
}
int dbMigrate(atelier_module_ctx* c, const atelier_migration* ms, size_t n) {
    if (!validCtx(c) || (!ms && n)) return ATELIER_ERR_INVALID;
    if (c->module->id == "host" && c->module->libraryPath.size()) return ATELIER_ERR_INVALID;
    return c->host->storage().migrate(c->module->id, ms, n);
}
int dbEngine(atelier_module_ctx*) { return Storage::kEngine; }
void dbLastError(atelier_module_ctx*, atelier_sink sink, void* sd) {
    if (!sink) return;
    const std::string& e = Storage::lastError();
    sink(sd, e.data(), e.size());
}

int evPublish(atelier_module_ctx* c, const atelier_event* e, int64_t* outId) {
    if (!validCtx(c) || !e) return ATELIER_ERR_INVALID;
    if (e->abi_major != ATELIER_ABI_MAJOR || !ATELIER_HAS_FIELD(e, atelier_event, type)) return ATELIER_ERR_INVALID;
    return c->host->bus().publish(*e, outId);
}
int64_t evSubscribe(atelier_module_ctx* c, atelier_str pattern, atelier_event_fn fn, void* ud) {
    if (!validCtx(c) || !fn) return 0;
    return c->host->bus().subscribe(
        cp(pattern),
        [fn, ud](const Event& e) {
            auto abi = e.toAbi();
            fn(ud, &abi);
        },
        c->module);
}
void evUnsubscribe(atelier_module_ctx* c, int64_t id) {
    if (validCtx(c)) c->host->bus().unsubscribe(id);
}
int runEventQuery(atelier_module_ctx* c, const EventQuery& q, atelier_event_fn fn, void* ud, int64_t* total) {
    std::vector<Event> events;
    int rc = c->host->bus().query(q, events, total);
    if (rc != ATELIER_OK) return rc;
    for (auto& e : events) {
        auto abi = e.toAbi();
        fn(ud, &abi);
    }
    return ATELIER_OK;
}
int evReplay(atelier_module_ctx* c, int64_t after, atelier_str pattern, int64_t limit, atelier_event_fn fn, void* ud) {
    if (!validCtx(c) || !fn) return ATELIER_ERR_INVALID;
    EventQuery q;
    q.afterId = after;
    q.types = cp(pattern);
    q.limit = limit <= 0 || limit > 10000 ? 10000 : limit;
    return runEventQuery(c, q, fn, ud, nullptr);
}
int evQuery(atelier_module_ctx* c, const atelier_event_query* in, atelier_event_fn fn, void* ud, int64_t* total) {
    if (!validCtx(c) || !in || !fn || in->abi_major != ATELIER_ABI_MAJOR) return ATELIER_ERR_INVALID;
    EventQuery q;
    auto text = [&](const atelier_str& s) { return cp(s); };
    if (ATELIER_HAS_FIELD(in, atelier_event_query, max_id)) {
        q.afterId = in->after_id;
        q.maxId = in->max_id;
    }
    if (ATELIER_HAS_FIELD(in, atelier_event_query, since)) {
        q.types = text(in->types);
        q.subject = text(in->subject);
        q.projectId = text(in->project_id);
        q.actorId = text(in->actor_id);
        q.actorType = text(in->actor_type);
        q.since = text(in->since);
    }
    if (ATELIER_HAS_FIELD(in, atelier_event_query, offset)) {
        q.limit = in->limit;
        q.offset = in->offset;
    }
    if (ATELIER_HAS_FIELD(in, atelier_event_query, newest_first)) q.newestFirst = in->newest_first != 0;
    if (q.limit < 0 || q.limit > 10000 || q.offset < 0) {
        Storage::setLastError("limit must be 0..10000 and offset >= 0");
        return ATELIER_ERR_INVALID;
    }
    return runEventQuery(c, q, fn, ud, total);
}
int64_t evLastId(atelier_module_ctx* c) { return validCtx(c) ? c->host->bus().lastId() : 0; }

int hkRegister(atelier_module_ctx* c, atelier_str name, int32_t priority, atelier_hook_fn fn, void* ud) {
    if (!validCtx(c) || !fn || name.len == 0) return ATELIER_ERR_INVALID;
    c->host->hooks().add(
        cp(name), priority,
        [fn, ud](const std::string& payload, HookDecision& out) {
            atelier_hook_result r{&out};
            fn(ud, as(payload), &r);
        },
        c->module);
    return ATELIER_OK;
}
int hkRun(atelier_module_ctx* c, atelier_str name, atelier_str payload, atelier_sink sink, void* sd) {
    if (!validCtx(c)) return ATELIER_ERR_INVALID;
    auto d = c->host->hooks().run(cp(name), cp(payload));
    if (sink) sink(sd, d.payload.data(), d.payload.size());
    return d.vetoed ? ATELIER_ERR_VETOED : ATELIER_OK;
}
void hkSetPayload(atelier_hook_result* r, atelier_str payload) {
    if (r && r->decision) r->decision->payload = cp(payload);
}
void hkVeto(atelier_hook_result* r, atelier_str reason) {
    if (!r || !r->decision) return;
    r->decision->vetoed = true;
    r->decision->payload = cp(reason);
}

int64_t tmAdd(atelier_module_ctx* c, uint64_t delay, uint64_t interval, atelier_timer_fn fn, void* ud) {
    if (!validCtx(c) || !fn) return 0;
    return c->host->timers().add(std::chrono::milliseconds(delay), std::chrono::milliseconds(interval),
                                 [fn, ud] { fn(ud); }, c->module);
}
void tmCancel(atelier_module_ctx* c, int64_t id) {
    if (validCtx(c)) c->host->timers().cancel(id);
}

int hCall(atelier_module_ctx* c, atelier_str method, atelier_str pathAndQuery, atelier_str headersJson, atelier_str body,
          int* outStatus, atelier_sink sink, void* sd) {
    if (!validCtx(c)) return ATELIER_ERR_INVALID;
    atelier_request req;
    req.method = cp(method);
    std::string pq = cp(pathAndQuery);
    auto q = pq.find('?');
    req.path = pq.substr(0, q);
    if (q != std::string::npos) req.query = pq.substr(q + 1);
    req.queryParams = route::parseQuery(req.query);
    req.body = cp(body);
    req.requestId = "call-" + c->module->id;
    if (headersJson.len) {
        auto o = parseObject(sv(headersJson));
        if (!o) return ATELIER_ERR_INVALID;
        for (auto& [k, v] : *o) {
            std::string name = k;
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            req.headers.emplace_back(name, v.toString());
        }
    }
    req.headers.emplace_back("x-atelier-caller", c->module->id);
    // An in-process call answers in the default flavor unless its headers name another one.
    if (auto* f = findHeader(&req, "x-atelier-flavor")) {
        int flavor = flavorFromName(*f);
        if (flavor < 0) return ATELIER_ERR_INVALID;
        req.flavor = flavor;
    }
    atelier_response res;
    res.streamAllowed = false;
    c->host->dispatch(req, res);
    if (outStatus) *outStatus = res.status;
    if (sink) sink(sd, res.body.data(), res.body.size());
    return ATELIER_OK;
}

int hOpsRecord(atelier_module_ctx* c, atelier_str entry) {
    if (!validCtx(c)) return ATELIER_ERR_INVALID;
    auto o = parseObject(sv(entry));
    if (!o) return ATELIER_ERR_INVALID;
    if (!o->has("source")) o->set("source", c->module->id);
    c->host->hooks().run("ops.record", atelier::toJson(o));
    return ATELIER_OK;
}

int hDescribe(atelier_module_ctx* c, atelier_str what, atelier_sink sink, void* sd) {
    if (!validCtx(c) || !sink) return ATELIER_ERR_INVALID;
    Host& host = *c->host;
    std::string kind = cp(what), out;
    if (kind == "summary") {
        out = "{\"version\":\"" ATELIER_VERSION "\",\"startedAt\":" + atelier::toJson(host.startedAt()) +
              ",\"port\":" + std::to_string(host.boundPort()) +
              ",\"modulesRunning\":" + std::to_string(host.modules().runningCount()) + "}";
    } else if (kind == "modules") {
        auto list = makeArray();
        for (auto& m : host.modules().records()) {
            auto o = makeObject();
            o->set("id", m->id);
            o->set("version", m->version);
            o->set("description", m->description);
            o->set("state", stateName(m->lifecycle));
            o->set("routes", m->routeCount.load());
            o->set("builtin", m->libraryPath.empty());
            auto reqs = makeArray();
            for (auto& r : m->requires_) reqs->add(r.id);
            o->set("requires", reqs);
            {
                std::lock_guard lock(m->errorMutex);
                if (m->lifecycle == ModuleState::Refused || m->lifecycle == ModuleState::Disabled)
                    o->set("error", m->error);
                else
                    o->set("error", Poco::Dynamic::Var());
            }
            list->add(o);
        }
        out = atelier::toJson(list);
    } else if (kind == "routes" || kind.rfind("routes/", 0) == 0) {
        // "routes": every route; "routes/<flavor>": those a client of that flavor sees.
        std::vector<std::shared_ptr<const RouteEntry>> routes;
        if (kind == "routes") {
            routes = host.router().routes();
        } else {
            int flavor = atelier::flavorFromName(std::string_view(kind).substr(7));
            if (flavor < 0) return ATELIER_ERR_INVALID;
            routes = host.router().routesFor(flavor);
        }
        auto list = makeArray();
        for (auto& r : routes) {
            auto o = makeObject();
            o->set("method", r->method);
            o->set("pattern", r->pattern.text());
            o->set("summary", r->summary);
            o->set("module", r->owner ? r->owner->id : std::string("host"));
            auto fl = makeArray();
            if (r->flavors != ATELIER_FLAVORS_DEFAULT)
                for (int f = 0; f < atelier::kFlavorCount; ++f)
                    if (r->flavors & ATELIER_FLAVOR_BIT(f)) fl->add(std::string(atelier::flavorName(f)));
            o->set("flavors", fl);
            list->add(o);
        }
        out = atelier::toJson(list);
    } else {
        return ATELIER_ERR_INVALID;
    }
    sink(sd, out.data(), out.size());
    return ATELIER_OK;
}

atelier_host_v1 buildTable() {
    auto t = initStruct<atelier_host_v1>();
    static const std::string version = ATELIER_VERSION;
    t.host_version = as(version);
    t.log = hLog;
    t.set_error = hSetError;
    t.config_get = hConfigGet;
    t.path_get = hPathGet;
    t.route_add = hRouteAdd;
    t.ws_route_add = hWsRouteAdd;
    t.request_method = rqMethod;
    t.request_path = rqPath;
    t.request_query_string = rqQueryString;
    t.request_param = rqParam;
    t.request_query_has = rqQueryHas;
    t.request_query = rqQuery;
    t.request_header_has = rqHeaderHas;
    t.request_header = rqHeader;
    t.request_body = rqBody;
    t.request_id = rqId;
    t.request_headers_json = rqHeadersJson;
    t.request_flavor = rqFlavor;
    t.response_set_status = rsStatus;
    t.response_set_header = rsHeader;
    t.response_set_body = rsBody;
    t.response_set_error = rsSetError;
    t.response_start_stream = rsStartStream;
    t.stream_write = stWrite;
    t.stream_close = stClose;
    t.stream_release = stRelease;
    t.stream_buffered = stBuffered;
    t.stream_write_group = stWriteGroup;
    t.ws_send = wsSend;
    t.ws_send_group = wsSendGroup;
    t.ws_close = wsClose;
    t.ws_retain = wsRetain;
    t.ws_release = wsRelease;
    t.db_exec = dbExec;
    t.db_query = dbQuery;
    t.db_transaction = dbTransaction;
    t.db_migrate = dbMigrate;
    t.db_last_error = dbLastError;
    t.db_engine = dbEngine;
    t.event_publish = evPublish;
    t.event_subscribe = evSubscribe;
    t.event_unsubscribe = evUnsubscribe;
    t.event_replay = evReplay;
    t.event_query = evQuery;
    t.event_last_id = evLastId;
    t.hook_register = hkRegister;
    t.hook_run = hkRun;
    t.hook_result_set_payload = hkSetPayload;
    t.hook_result_veto = hkVeto;
    t.timer_add = tmAdd;
    t.timer_cancel = tmCancel;
    t.call = hCall;
    t.ops_record = hOpsRecord;
    t.host_describe = hDescribe;
    return t;
}

}  // namespace

const atelier_host_v1* hostTable(Host* host) {
    g_hostForStreams = host;
    static const atelier_host_v1 table = buildTable();
    return &table;
}

void Host::releaseWebSocket(atelier_websocket* ws) {
    if (ws && ws->refs.fetch_sub(1) == 1) delete ws;
}

void Host::attachStream(atelier_stream* s, std::shared_ptr<Connection> conn) {
    std::string pending;
    bool closeNow = false;
    {
        std::lock_guard lock(s->mutex);
        s->conn = conn;
        pending.swap(s->pending);
        closeNow = s->closeRequested;
    }
    conn->onClosed = [this, s](int) {
        {
            std::lock_guard lock(s->mutex);
            s->closed = true;
        }
        if (!s->notified.exchange(true) && s->onClosed) {
            InflightGuard guard(s->owner.get());
            s->onClosed(s->userData, s);
        }
        releaseStream(s);  // the host's reference
    };
    if (!pending.empty()) conn->write(pending);
    if (closeNow) conn->close(1000, "");
}

void Host::releaseStream(atelier_stream* s) {
    if (s->refs.fetch_sub(1) == 1) delete s;
}

}  // namespace atelier::host
