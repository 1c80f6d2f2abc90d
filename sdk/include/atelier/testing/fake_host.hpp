// A fake Atelier host for unit tests: loads a module's entry table in process (no dlopen),
// keeps its routes, hooks, subscriptions and timers, runs SQL against an in-memory SQLite
// database, and lets the test call routes directly.
//
// Usage:
//   atelier::testing::FakeHost host;
//   host.load(atelier_module_entry_v1());        // or several modules, in dependency order
//   auto r = host.request("POST", "/api/things", R"({"name":"x"})");
//   EXPECT_EQ(r.status, 201);
//   host.request("GET", "/api/health", "", {{"X-Atelier-Flavor", "kanban"}});  // another API flavor
//
// Single-threaded by design except for the database and publish paths, which lock.
#pragma once

#include <atelier/abi.h>
#include <sqlite3.h>

#include <algorithm>
#include <atelier/route_pattern.hpp>
#include <atelier/sdk.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace atelier::testing {
class FakeHostImpl;
}

struct atelier_module_ctx {
    atelier::testing::FakeHostImpl* host;
    std::string id;
    std::string lastError;
    std::string config = "{}";
};

struct atelier_request {
    std::string method, path, query, body, id = "test-request";
    atelier::route::Params params, queryParams;
    std::map<std::string, std::string> headers;  // lower-case names
    int flavor = ATELIER_FLAVOR_ATELIER;
};

struct atelier_response {
    int flavor = ATELIER_FLAVOR_ATELIER;
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool streaming = false;
    atelier_stream* stream = nullptr;
};

struct atelier_stream {
    std::string contentType;
    std::string written;
    bool closed = false;
    int refs = 1;
    atelier_stream_closed_fn onClosed = nullptr;
    void* userData = nullptr;
};

struct atelier_websocket {
    std::vector<std::pair<std::string, bool>> sent;  // data, binary
    bool closed = false;
    int closeCode = 0;
    std::string closeReason;
    int refs = 0;
};

struct atelier_db_txn {
    sqlite3* db;
};

struct atelier_hook_result {
    std::string payload;
    bool vetoed = false;
    std::string reason;
};

namespace atelier::testing {

struct FakeResponse {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string header(std::string_view name) const {
        for (auto& [k, v] : headers) {
            if (k.size() == name.size() &&
                std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
                return v;
        }
        return {};
    }
    JsonObject json() const {
        try {
            return Poco::JSON::Parser().parse(body).extract<JsonObject>();
        } catch (...) {
            return nullptr;
        }
    }
    JsonArray jsonArray() const {
        try {
            return Poco::JSON::Parser().parse(body).extract<JsonArray>();
        } catch (...) {
            return nullptr;
        }
    }
};

class FakeHostImpl {
public:
    struct Route {
        std::string method;
        route::Pattern pattern;
        atelier_route_fn fn;
        void* ud;
        atelier_module_ctx* owner;
        uint32_t flavors = ATELIER_FLAVORS_DEFAULT;
        bool serves(int flavor) const {
            return flavors == ATELIER_FLAVORS_DEFAULT || (flavors & ATELIER_FLAVOR_BIT(flavor));
        }
        std::string summary;
    };
    struct WsRoute {
        route::Pattern pattern;
        atelier_ws_callbacks cb;
        void* ud;
    };
    struct Sub {
        int64_t id;
        std::string pattern;
        atelier_event_fn fn;
        void* ud;
        atelier_module_ctx* owner;
    };
    struct HookEntry {
        std::string name;
        int32_t priority;
        atelier_hook_fn fn;
        void* ud;
    };
    struct Timer {
        int64_t id;
        uint64_t interval;
        atelier_timer_fn fn;
        void* ud;
        bool cancelled = false;
    };
    struct Loaded {
        const atelier_module_v1* table;
        std::unique_ptr<atelier_module_ctx> ctx;
        void* state = nullptr;
    };

    explicit FakeHostImpl(std::string dataDir) : dataDir_(std::move(dataDir)) {
        if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite open failed");
        sqlite3_exec(db_, "PRAGMA foreign_keys=ON;", nullptr, nullptr, nullptr);
        exec("CREATE TABLE host_migrations (module_id TEXT, version INTEGER, PRIMARY KEY(module_id, version))");
        buildTable();
    }
    ~FakeHostImpl() {
        unloadAll();
        sqlite3_close(db_);
    }

    const atelier_host_v1* api() const { return &api_; }
    sqlite3* sqlite() const { return db_; }

    // Pretends to be an older host whose table ends at `structSize` bytes (e.g.
    // offsetof(atelier_host_v1, db_engine)): struct_size shrinks and every byte past it is
    // overwritten with garbage, so a module that reads past the host's struct_size crashes
    // instead of passing by luck. Call before load().
    void truncateTable(size_t structSize, uint16_t abiMinor = ATELIER_ABI_MINOR) {
        if (structSize >= sizeof(api_)) return;
        api_.struct_size = static_cast<uint32_t>(structSize);
        api_.abi_minor = abiMinor;
        std::memset(reinterpret_cast<char*>(&api_) + structSize, 0xA5, sizeof(api_) - structSize);
    }

    void setConfig(const std::string& moduleId, const std::string& json) { configs_[moduleId] = json; }

    // Runs init then start; throws with the module's error text on failure.
    void load(const atelier_module_v1* table) {
        auto l = Loaded{table, std::make_unique<atelier_module_ctx>(), nullptr};
        l.ctx->host = this;
        l.ctx->id = table->id;
        auto it = configs_.find(table->id);
        if (it != configs_.end()) l.ctx->config = it->second;
        if (table->init(&api_, l.ctx.get(), &l.state) != ATELIER_OK)
            throw std::runtime_error("init failed: " + l.ctx->lastError);
        if (table->start && table->start(l.state) != ATELIER_OK)
            throw std::runtime_error("start failed: " + l.ctx->lastError);
        modules_.push_back(std::move(l));
    }
    void unloadAll() {
        for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) {
            if (it->table->stop) it->table->stop(it->state);
        }
        for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) {
            if (it->table->destroy) it->table->destroy(it->state);
        }
        modules_.clear();
        routes_.clear();
        subs_.clear();
        hooks_.clear();
        timers_.clear();
    }

    FakeResponse request(std::string method, std::string pathAndQuery, std::string body = {},
                         std::map<std::string, std::string> headers = {}) {
        atelier_request req;
        req.method = std::move(method);
        auto q = pathAndQuery.find('?');
        req.path = pathAndQuery.substr(0, q);
        if (q != std::string::npos) req.query = pathAndQuery.substr(q + 1);
        req.queryParams = route::parseQuery(req.query);
        req.body = std::move(body);
        for (auto& [k, v] : headers) req.headers[lower(k)] = v;
        FakeResponse out;
        if (auto f = req.headers.find("x-atelier-flavor"); f != req.headers.end()) {
            req.flavor = flavorFromName(f->second);
            if (req.flavor < 0) {
                out.status = 400;
                out.body = errorBody(400, "UNKNOWN_FLAVOR", "Unknown API flavor: " + f->second);
                return out;
            }
        }
        // As the host: the most specific pattern; on equal specificity the route registered for
        // the request's flavor over the default one.
        auto parts = route::splitPath(req.path);
        const Route* best = nullptr;
        bool pathMatched = false;
        route::Params params;
        for (auto& r : routes_) {
            route::Params p;
            if (!r.serves(req.flavor) || !r.pattern.match(parts, p)) continue;
            pathMatched = true;
            if (r.method != req.method) continue;
            bool better = !best || r.pattern.specificity() > best->pattern.specificity() ||
                          (r.pattern.specificity() == best->pattern.specificity() &&
                           r.flavors != ATELIER_FLAVORS_DEFAULT && best->flavors == ATELIER_FLAVORS_DEFAULT);
            if (better) {
                best = &r;
                params = p;
            }
        }
        atelier_response res;
        res.flavor = req.flavor;
        if (!best) {
            api_.response_set_error(&res, pathMatched ? 405 : 404,
                                    str(pathMatched ? "METHOD_NOT_ALLOWED" : "NOT_FOUND"),
                                    str(pathMatched ? "Method not allowed" : "Not found"), str(""));
            out.status = res.status;
            out.body = res.body;
            out.headers = res.headers;
            return out;
        }
        req.params = params;
        best->fn(best->ud, &req, &res);
        out.status = res.status;
        out.body = res.body;
        out.headers = res.headers;
        if (res.stream) {
            lastStream_ = res.stream;
            out.body += res.stream->written;
        }
        return out;
    }
    // The stream the last request opened, if any (owned by the fake host until the module releases it).
    atelier_stream* lastStream() const { return lastStream_; }

    // Simulates a WebSocket client: returns the socket handle after on_open accepted it.
    atelier_websocket* wsOpen(const std::string& path) {
        const std::string pathOnly = path.substr(0, path.find('?'));  // the views below point into it
        auto parts = route::splitPath(pathOnly);
        for (auto& r : wsRoutes_) {
            route::Params p;
            if (!r.pattern.match(parts, p)) continue;
            atelier_request req;
            req.method = "GET";
            req.path = path.substr(0, path.find('?'));
            if (path.find('?') != std::string::npos) req.query = path.substr(path.find('?') + 1);
            req.queryParams = route::parseQuery(req.query);
            req.params = p;
            auto* ws = new atelier_websocket();
            sockets_.emplace_back(ws);
            wsOwner_[ws] = &r;
            int code = r.cb.on_open(r.ud, ws, &req);
            if (code != 0) {
                ws->closed = true;
                ws->closeCode = code;
            }
            return ws;
        }
        return nullptr;
    }
    void wsMessage(atelier_websocket* ws, const std::string& data, bool binary = false) {
        auto* r = wsOwner_.at(ws);
        r->cb.on_message(r->ud, ws, data.data(), data.size(), binary ? 1 : 0);
    }
    void wsClientClose(atelier_websocket* ws, int code = 1000) {
        auto* r = wsOwner_.at(ws);
        ws->closed = true;
        r->cb.on_close(r->ud, ws, code);
    }

    // Fires due timers: every live timer runs once per call.
    void runTimers() {
        auto copy = timers_;
        for (auto& t : copy) {
            if (!t.cancelled) t.fn(t.ud);
        }
        timers_.erase(std::remove_if(timers_.begin(), timers_.end(), [](const Timer& t) { return t.interval == 0 || t.cancelled; }),
                      timers_.end());
    }

    // Publishes an event as if another module had (subscribers run synchronously).
    int64_t publish(const Event& e) {
        atelier_module_ctx ctx{this, "test", "", "{}"};
        auto abi = e.toAbi();
        int64_t id = 0;
        if (api_.event_publish(&ctx, &abi, &id) != ATELIER_OK) throw std::runtime_error("publish failed: " + ctx.lastError);
        return id;
    }

    std::vector<Event> events() {
        std::vector<Event> out;
        auto cb = [](void* ud, const atelier_event* e) { static_cast<std::vector<Event>*>(ud)->push_back(Event::fromAbi(e)); };
        replay(0, "", 1000000, cb, &out);
        return out;
    }
    std::vector<std::string> opsEntries() const { return ops_; }
    std::vector<std::string> logs() const { return logs_; }

private:
    static std::string lower(std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }
    static FakeHostImpl* self(atelier_module_ctx* c) { return c->host; }
    void exec(const char* sql) { sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

    static std::string nowIso() {
        auto now = std::chrono::system_clock::now();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        std::time_t t = ms / 1000;
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[40];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        char out[48];
        std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
        return out;
    }

    int runSql(atelier_module_ctx* ctx, const std::string& sql, const atelier_value* params, size_t n,
               atelier_row_fn onRow, void* ud, atelier_db_result* result) {
        std::lock_guard lock(dbMutex_);
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK) {
            ctx->lastError = sqlite3_errmsg(db_);
            return ATELIER_ERR_INVALID;
        }
        // The storage contract: positional `?` only, as the real host enforces.
        for (int i = 1; i <= sqlite3_bind_parameter_count(st); ++i) {
            if (const char* name = sqlite3_bind_parameter_name(st, i)) {
                ctx->lastError =
                    std::string("placeholder '") + name + "' is not allowed: use positional '?' placeholders";
                sqlite3_finalize(st);
                return ATELIER_ERR_INVALID;
            }
        }
        for (size_t i = 0; i < n; ++i) {
            int idx = static_cast<int>(i + 1);
            switch (params[i].type) {
                case ATELIER_VALUE_INT: sqlite3_bind_int64(st, idx, params[i].i); break;
                case ATELIER_VALUE_REAL: sqlite3_bind_double(st, idx, params[i].r); break;
                case ATELIER_VALUE_TEXT:
                    sqlite3_bind_text(st, idx, params[i].s.ptr ? params[i].s.ptr : "", static_cast<int>(params[i].s.len), SQLITE_TRANSIENT);
                    break;
                case ATELIER_VALUE_BLOB: sqlite3_bind_blob(st, idx, params[i].s.ptr, static_cast<int>(params[i].s.len), SQLITE_TRANSIENT); break;
                default: sqlite3_bind_null(st, idx);
            }
        }
        int rc;
        std::vector<std::string> names;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (!onRow) continue;
            int nc = sqlite3_column_count(st);
            if (names.empty())
                for (int c = 0; c < nc; ++c) names.emplace_back(sqlite3_column_name(st, c));
            std::vector<atelier_str> ns(nc);
            std::vector<atelier_value> vs(nc);
            for (int c = 0; c < nc; ++c) {
                ns[c] = str(names[c]);
                switch (sqlite3_column_type(st, c)) {
                    case SQLITE_INTEGER: vs[c].type = ATELIER_VALUE_INT; vs[c].i = sqlite3_column_int64(st, c); break;
                    case SQLITE_FLOAT: vs[c].type = ATELIER_VALUE_REAL; vs[c].r = sqlite3_column_double(st, c); break;
                    case SQLITE_TEXT:
                        vs[c].type = ATELIER_VALUE_TEXT;
                        vs[c].s = atelier_str{reinterpret_cast<const char*>(sqlite3_column_text(st, c)), static_cast<size_t>(sqlite3_column_bytes(st, c))};
                        break;
                    case SQLITE_BLOB:
                        vs[c].type = ATELIER_VALUE_BLOB;
                        vs[c].s = atelier_str{static_cast<const char*>(sqlite3_column_blob(st, c)), static_cast<size_t>(sqlite3_column_bytes(st, c))};
                        break;
                    default: vs[c].type = ATELIER_VALUE_NULL;
                }
            }
            if (onRow(ud, nc, ns.data(), vs.data()) != 0) {
                rc = SQLITE_DONE;
                break;
            }
        }
        int out = ATELIER_OK;
        if (rc != SQLITE_DONE) {
            ctx->lastError = sqlite3_errmsg(db_);
            int ext = sqlite3_extended_errcode(db_);
            if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ||
                ext == SQLITE_CONSTRAINT_ROWID)
                out = ATELIER_ERR_CONFLICT;
            else if ((ext & 0xff) == SQLITE_CONSTRAINT)
                out = ATELIER_ERR_CONSTRAINT;
            else if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
                out = ATELIER_ERR_BUSY;
            else
                out = ATELIER_ERR_INVALID;
        } else if (result && ATELIER_HAS_FIELD(result, atelier_db_result, changes)) {
            result->changes = sqlite3_changes(db_);
        }
        sqlite3_finalize(st);
        return out;
    }

    int replay(int64_t after, std::string_view pattern, int64_t limit, atelier_event_fn fn, void* ud) {
        EventQuery q;
        q.afterId = after;
        q.types = std::string(pattern);
        q.limit = limit;
        return query(q, fn, ud, nullptr);
    }

    // The host's event query over the in-memory log (same filters as the real host).
    int query(const EventQuery& q, atelier_event_fn fn, void* ud, int64_t* total) {
        std::vector<Event> matched;
        {
            std::lock_guard lock(eventsMutex_);
            for (auto& e : events_) {
                if (e.id <= q.afterId || (q.maxId > 0 && e.id > q.maxId)) continue;
                if (!eventTypeMatchesAny(q.types, e.type)) continue;
                if ((!q.subject.empty() && e.subject != q.subject) ||
                    (!q.projectId.empty() && e.projectId != q.projectId) ||
                    (!q.actorId.empty() && e.actorId != q.actorId) ||
                    (!q.actorType.empty() && e.actorType != q.actorType) ||
                    (!q.since.empty() && !(e.createdAt > q.since)))
                    continue;
                matched.push_back(e);
            }
        }
        if (total) *total = static_cast<int64_t>(matched.size());
        if (q.newestFirst) std::reverse(matched.begin(), matched.end());
        int64_t limit = q.limit <= 0 ? 100 : q.limit;
        for (size_t i = static_cast<size_t>(std::max<int64_t>(q.offset, 0)); i < matched.size() && limit > 0;
             ++i, --limit) {
            auto abi = matched[i].toAbi();
            fn(ud, &abi);
        }
        return ATELIER_OK;
    }

    void buildTable() {
        api_ = initStruct<atelier_host_v1>();
        api_.host_version = str("fake");
        api_.log = [](atelier_module_ctx* c, int level, atelier_str m) {
            self(c)->logs_.push_back(std::to_string(level) + " " + c->id + ": " + std::string(view(m)));
        };
        api_.set_error = [](atelier_module_ctx* c, atelier_str m) { c->lastError = std::string(view(m)); };
        api_.config_get = [](atelier_module_ctx* c, atelier_sink sink, void* sd) { sink(sd, c->config.data(), c->config.size()); };
        api_.path_get = [](atelier_module_ctx* c, int kind, atelier_sink sink, void* sd) -> int {
            std::string p;
            auto* h = self(c);
            if (kind == ATELIER_PATH_DATA_DIR) p = h->dataDir_;
            else if (kind == ATELIER_PATH_MODULE_DIR) {
                p = h->dataDir_ + "/modules/" + c->id;
                std::error_code ec;
                std::filesystem::create_directories(p, ec);
            } else if (kind == ATELIER_PATH_START_DIR) p = std::filesystem::current_path().string();
            else return ATELIER_ERR_INVALID;
            sink(sd, p.data(), p.size());
            return ATELIER_OK;
        };
        api_.route_add = [](atelier_module_ctx* c, const atelier_route_desc* d) -> int {
            if (!d || !ATELIER_HAS_FIELD(d, atelier_route_desc, user_data) || !d->handler) return ATELIER_ERR_INVALID;
            auto& routes = self(c)->routes_;
            std::string method(view(d->method)), pattern(view(d->pattern));
            for (auto& r : routes)
                if (r.method == method && r.pattern.text() == pattern &&
                    (r.flavors == d->flavors || (r.flavors & d->flavors)))
                    return ATELIER_ERR_CONFLICT;
            routes.push_back(
                Route{method, route::Pattern(pattern), d->handler, d->user_data, c, d->flavors, std::string(view(d->summary))});
            return ATELIER_OK;
        };
        api_.ws_route_add = [](atelier_module_ctx* c, atelier_str pattern, const atelier_ws_callbacks* cb,
                               void* ud) -> int {
            auto copy = initStruct<atelier_ws_callbacks>();  // only the fields the module's struct has
            if (ATELIER_HAS_FIELD(cb, atelier_ws_callbacks, on_open)) copy.on_open = cb->on_open;
            if (ATELIER_HAS_FIELD(cb, atelier_ws_callbacks, on_message)) copy.on_message = cb->on_message;
            if (ATELIER_HAS_FIELD(cb, atelier_ws_callbacks, on_close)) copy.on_close = cb->on_close;
            self(c)->wsRoutes_.push_back(WsRoute{route::Pattern(view(pattern)), copy, ud});
            return ATELIER_OK;
        };
        api_.request_method = [](const atelier_request* r) { return str(r->method); };
        api_.request_path = [](const atelier_request* r) { return str(r->path); };
        api_.request_query_string = [](const atelier_request* r) { return str(r->query); };
        api_.request_param = [](const atelier_request* r, atelier_str name) -> atelier_str {
            for (auto& [k, v] : r->params)
                if (k == view(name)) return str(v);
            return atelier_str{nullptr, 0};
        };
        api_.request_query_has = [](const atelier_request* r, atelier_str name) -> int {
            for (auto& [k, v] : r->queryParams)
                if (k == view(name)) return 1;
            return 0;
        };
        api_.request_query = [](const atelier_request* r, atelier_str name) -> atelier_str {
            for (auto& [k, v] : r->queryParams)
                if (k == view(name)) return str(v);
            return atelier_str{nullptr, 0};
        };
        api_.request_header_has = [](const atelier_request* r, atelier_str name) -> int {
            return r->headers.count(lower(std::string(view(name)))) ? 1 : 0;
        };
        api_.request_header = [](const atelier_request* r, atelier_str name) -> atelier_str {
            auto it = r->headers.find(lower(std::string(view(name))));
            return it == r->headers.end() ? atelier_str{nullptr, 0} : str(it->second);
        };
        api_.request_body = [](const atelier_request* r) { return str(r->body); };
        api_.request_id = [](const atelier_request* r) { return str(r->id); };
        api_.request_headers_json = [](const atelier_request* r, atelier_sink sink, void* sd) {
            JsonObject o = makeObject();
            for (auto& [k, v] : r->headers) o->set(k, v);
            auto s = toJson(o);
            sink(sd, s.data(), s.size());
        };
        api_.request_flavor = [](const atelier_request* r) -> int { return r->flavor; };
        api_.response_set_status = [](atelier_response* r, int s) { r->status = s; };
        api_.response_set_header = [](atelier_response* r, atelier_str n, atelier_str v) {
            r->headers.emplace_back(std::string(view(n)), std::string(view(v)));
        };
        api_.response_set_body = [](atelier_response* r, atelier_str b) { r->body = std::string(view(b)); };
        api_.response_set_error = [](atelier_response* r, int status, atelier_str code, atelier_str message,
                                     atelier_str details) {
            std::vector<ErrorDetail> ds;
            JsonObject extra;
            // A module bug the host would log: fail the test loudly instead.
            if (!parseErrorDetails(view(details), ds, extra))
                throw std::invalid_argument("response_set_error: details_json is not a details array or object");
            if (status < 400 || status > 599) status = 500;
            auto rendered = renderError(r->flavor, status, view(code), view(message), ds, extra);
            r->status = status;
            r->body = std::move(rendered.body);
            std::erase_if(r->headers, [](const auto& h) { return lower(h.first) == "content-type"; });
            r->headers.emplace_back("Content-Type", rendered.contentType);
        };
        api_.response_start_stream = [](atelier_response* r, atelier_str ct, atelier_stream_closed_fn fn, void* ud) -> atelier_stream* {
            auto* s = new atelier_stream();
            s->contentType = std::string(view(ct));
            s->onClosed = fn;
            s->userData = ud;
            s->refs = 2;  // module + fake host (released in ~FakeHost via streams_)
            r->stream = s;
            r->streaming = true;
            return s;
        };
        api_.stream_write = [](atelier_stream* s, atelier_str d) -> int {
            if (s->closed) return ATELIER_ERR_CLOSED;
            s->written.append(d.ptr ? d.ptr : "", d.len);
            return ATELIER_OK;
        };
        api_.stream_close = [](atelier_stream* s) {
            if (s->closed) return;
            s->closed = true;
            if (s->onClosed) s->onClosed(s->userData, s);
        };
        api_.stream_release = [](atelier_stream* s) {
            if (--s->refs == 0) delete s;
        };
        api_.stream_buffered = [](atelier_stream* s, int64_t* capacity) -> int64_t {
            if (capacity) *capacity = 4 * 1024 * 1024;  // the real host's default
            return s->closed ? -1 : 0;
        };
        api_.stream_write_group = [](atelier_stream* const* ss, size_t n, atelier_str d, int* statuses) -> int {
            if (!ss && n) return ATELIER_ERR_INVALID;
            for (size_t i = 0; i < n; ++i) {
                int rc = ss[i]->closed ? ATELIER_ERR_CLOSED : ATELIER_OK;
                if (rc == ATELIER_OK) ss[i]->written.append(d.ptr ? d.ptr : "", d.len);
                if (statuses) statuses[i] = rc;
            }
            return ATELIER_OK;
        };
        api_.ws_send = [](atelier_websocket* ws, atelier_str d, int bin) -> int {
            if (ws->closed) return ATELIER_ERR_CLOSED;
            ws->sent.emplace_back(std::string(view(d)), bin != 0);
            return ATELIER_OK;
        };
        api_.ws_send_group = [](atelier_websocket* const* wss, size_t n, const atelier_str* ms, size_t nm, int bin,
                                int* statuses) -> int {
            if ((!wss && n) || (!ms && nm)) return ATELIER_ERR_INVALID;
            for (size_t i = 0; i < n; ++i) {
                int rc = wss[i]->closed ? ATELIER_ERR_CLOSED : ATELIER_OK;
                for (size_t k = 0; rc == ATELIER_OK && k < nm; ++k)
                    wss[i]->sent.emplace_back(std::string(view(ms[k])), bin != 0);
                if (statuses) statuses[i] = rc;
            }
            return ATELIER_OK;
        };
        api_.ws_close = [](atelier_websocket* ws, int code, atelier_str reason) {
            ws->closed = true;
            ws->closeCode = code;
            ws->closeReason = std::string(view(reason));
        };
        api_.ws_retain = [](atelier_websocket* ws) { ++ws->refs; };
        api_.ws_release = [](atelier_websocket* ws) { --ws->refs; };
        api_.db_exec = [](atelier_module_ctx* c, atelier_db_txn*, atelier_str sql, const atelier_value* p, size_t n, atelier_db_result* r) -> int {
            return self(c)->runSql(c, std::string(view(sql)), p, n, nullptr, nullptr, r);
        };
        api_.db_query = [](atelier_module_ctx* c, atelier_db_txn*, atelier_str sql, const atelier_value* p, size_t n, atelier_row_fn fn, void* ud) -> int {
            return self(c)->runSql(c, std::string(view(sql)), p, n, fn, ud, nullptr);
        };
        api_.db_transaction = [](atelier_module_ctx* c, atelier_txn_fn fn, void* ud) -> int {
            auto* h = self(c);
            std::lock_guard outer(h->txnMutex_);
            sqlite3_exec(h->db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
            atelier_db_txn txn{h->db_};
            int rc = fn(ud, &txn);
            sqlite3_exec(h->db_, rc == ATELIER_OK ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr);
            return rc;
        };
        api_.db_migrate = [](atelier_module_ctx* c, const atelier_migration* ms, size_t n) -> int {
            auto* h = self(c);
            if (n == 0) return ATELIER_OK;
            if (!ms || !ATELIER_HAS_FIELD(ms, atelier_migration, sql)) return ATELIER_ERR_INVALID;
            const size_t stride = ms->struct_size;  // the module's element size, as the host strides
            int64_t previous = 0;
            for (size_t i = 0; i < n; ++i) {
                const auto* m =
                    reinterpret_cast<const atelier_migration*>(reinterpret_cast<const char*>(ms) + i * stride);
                int engine = ATELIER_HAS_FIELD(m, atelier_migration, engine) ? m->engine : ATELIER_DB_ANY;
                if (engine != ATELIER_DB_ANY && engine != ATELIER_DB_SQLITE) continue;
                if (m->version <= previous) {
                    c->lastError = "migration versions must increase";
                    return ATELIER_ERR_INVALID;
                }
                previous = m->version;
                std::string sql(view(m->sql));
                char* err = nullptr;
                if (sqlite3_exec(h->db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
                    c->lastError = err ? err : "migration failed";
                    sqlite3_free(err);
                    return ATELIER_ERR_INVALID;
                }
            }
            return ATELIER_OK;
        };
        api_.db_last_error = [](atelier_module_ctx* c, atelier_sink sink, void* sd) { sink(sd, c->lastError.data(), c->lastError.size()); };
        api_.db_engine = [](atelier_module_ctx*) -> int { return ATELIER_DB_SQLITE; };
        api_.event_publish = [](atelier_module_ctx* c, const atelier_event* e, int64_t* outId) -> int {
            auto* h = self(c);
            Event ev = Event::fromAbi(e);
            if (ev.type.empty()) return ATELIER_ERR_INVALID;
            if (ev.actorType.empty()) ev.actorType = "system";
            if (ev.payload.empty()) ev.payload = "{}";
            ev.createdAt = nowIso();
            {
                std::lock_guard lock(h->eventsMutex_);
                ev.id = static_cast<int64_t>(h->events_.size()) + 1;
                h->events_.push_back(ev);
            }
            if (outId) *outId = ev.id;
            auto abi = ev.toAbi();
            auto subs = h->subs_;
            for (auto& s : subs)
                if (eventTypeMatches(s.pattern, ev.type)) s.fn(s.ud, &abi);
            return ATELIER_OK;
        };
        api_.event_subscribe = [](atelier_module_ctx* c, atelier_str pattern, atelier_event_fn fn, void* ud) -> int64_t {
            auto* h = self(c);
            int64_t id = ++h->nextId_;
            h->subs_.push_back(Sub{id, std::string(view(pattern)), fn, ud, c});
            return id;
        };
        api_.event_unsubscribe = [](atelier_module_ctx* c, int64_t id) {
            auto& subs = self(c)->subs_;
            subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const Sub& s) { return s.id == id; }), subs.end());
        };
        api_.event_replay = [](atelier_module_ctx* c, int64_t after, atelier_str pattern, int64_t limit, atelier_event_fn fn, void* ud) -> int {
            return self(c)->replay(after, view(pattern), limit, fn, ud);
        };
        api_.event_query = [](atelier_module_ctx* c, const atelier_event_query* q, atelier_event_fn fn, void* ud,
                              int64_t* total) -> int {
            if (!q || !fn) return ATELIER_ERR_INVALID;
            EventQuery eq;
            eq.afterId = q->after_id;
            eq.maxId = q->max_id;
            eq.types = std::string(view(q->types));
            eq.subject = std::string(view(q->subject));
            eq.projectId = std::string(view(q->project_id));
            eq.actorId = std::string(view(q->actor_id));
            eq.actorType = std::string(view(q->actor_type));
            eq.since = std::string(view(q->since));
            eq.limit = q->limit;
            eq.offset = q->offset;
            eq.newestFirst = q->newest_first != 0;
            return self(c)->query(eq, fn, ud, total);
        };
        api_.event_last_id = [](atelier_module_ctx* c) -> int64_t {
            auto* h = self(c);
            std::lock_guard lock(h->eventsMutex_);
            return static_cast<int64_t>(h->events_.size());
        };
        api_.hook_register = [](atelier_module_ctx* c, atelier_str name, int32_t prio, atelier_hook_fn fn, void* ud) -> int {
            auto& hooks = self(c)->hooks_;
            hooks.push_back(HookEntry{std::string(view(name)), prio, fn, ud});
            std::stable_sort(hooks.begin(), hooks.end(), [](const HookEntry& a, const HookEntry& b) { return a.priority < b.priority; });
            return ATELIER_OK;
        };
        api_.hook_run = [](atelier_module_ctx* c, atelier_str name, atelier_str payload, atelier_sink sink, void* sd) -> int {
            std::string current(view(payload));
            auto hooks = self(c)->hooks_;
            for (auto& hk : hooks) {
                if (hk.name != view(name)) continue;
                atelier_hook_result r;
                r.payload = current;
                hk.fn(hk.ud, str(current), &r);
                if (r.vetoed) {
                    if (sink) sink(sd, r.reason.data(), r.reason.size());
                    return ATELIER_ERR_VETOED;
                }
                current = r.payload;
            }
            if (sink) sink(sd, current.data(), current.size());
            return ATELIER_OK;
        };
        api_.hook_result_set_payload = [](atelier_hook_result* r, atelier_str p) { r->payload = std::string(view(p)); };
        api_.hook_result_veto = [](atelier_hook_result* r, atelier_str reason) {
            r->vetoed = true;
            r->reason = std::string(view(reason));
        };
        api_.timer_add = [](atelier_module_ctx* c, uint64_t, uint64_t interval, atelier_timer_fn fn, void* ud) -> int64_t {
            auto* h = self(c);
            int64_t id = ++h->nextId_;
            h->timers_.push_back(Timer{id, interval, fn, ud});
            return id;
        };
        api_.timer_cancel = [](atelier_module_ctx* c, int64_t id) {
            for (auto& t : self(c)->timers_)
                if (t.id == id) t.cancelled = true;
        };
        api_.call = [](atelier_module_ctx* c, atelier_str method, atelier_str path, atelier_str headersJson, atelier_str body, int* status,
                       atelier_sink sink, void* sd) -> int {
            std::map<std::string, std::string> headers;
            if (headersJson.len) {
                try {
                    auto o = Poco::JSON::Parser().parse(std::string(view(headersJson))).extract<JsonObject>();
                    for (auto& [k, v] : *o) headers[k] = v.toString();
                } catch (...) {
                    return ATELIER_ERR_INVALID;
                }
            }
            auto r = self(c)->request(std::string(view(method)), std::string(view(path)), std::string(view(body)), headers);
            if (status) *status = r.status;
            if (sink) sink(sd, r.body.data(), r.body.size());
            return ATELIER_OK;
        };
        api_.ops_record = [](atelier_module_ctx* c, atelier_str entry) -> int {
            self(c)->ops_.emplace_back(view(entry));
            // Like the host: the module keeping the operations log gets it through this hook.
            return self(c)->api_.hook_run(c, str("ops.record"), entry, nullptr, nullptr) == ATELIER_ERR_VETOED
                       ? ATELIER_ERR_VETOED
                       : ATELIER_OK;
        };
        api_.host_describe = [](atelier_module_ctx* c, atelier_str what, atelier_sink sink, void* sd) -> int {
            auto* h = self(c);
            std::string kind(view(what)), out;
            if (kind == "summary") {
                out = "{\"version\":\"fake\",\"startedAt\":\"\",\"port\":0,\"modulesRunning\":" +
                      std::to_string(h->modules_.size()) + "}";
            } else if (kind == "modules" || kind == "routes") {
                auto list = makeArray();
                if (kind == "routes") {
                    for (auto& r : h->routes_) {
                        auto o = makeObject();
                        o->set("method", r.method);
                        o->set("pattern", r.pattern.text());
                        o->set("summary", r.summary);
                        o->set("module", r.owner ? r.owner->id : std::string());
                        list->add(o);
                    }
                }
                out = toJson(list);
            } else {
                return ATELIER_ERR_INVALID;
            }
            sink(sd, out.data(), out.size());
            return ATELIER_OK;
        };
    }

    std::string dataDir_;
    sqlite3* db_ = nullptr;
    std::recursive_mutex dbMutex_;
    std::mutex txnMutex_;
    atelier_host_v1 api_{};
    std::vector<Loaded> modules_;
    std::vector<Route> routes_;
    std::vector<WsRoute> wsRoutes_;
    std::map<atelier_websocket*, WsRoute*> wsOwner_;
    std::vector<std::unique_ptr<atelier_websocket>> sockets_;
    std::vector<Sub> subs_;
    std::mutex eventsMutex_;
    std::vector<Event> events_;  // the persisted log; id = position + 1
    std::vector<HookEntry> hooks_;
    std::vector<Timer> timers_;
    std::vector<std::string> ops_, logs_;
    std::map<std::string, std::string> configs_;
    atelier_stream* lastStream_ = nullptr;
    int64_t nextId_ = 0;
};

// The entry table ATELIER_MODULE would export for module class M, for tests that load a module
// without its exported symbol (several in one binary). One table per M: the first call's
// arguments win.
template <typename M>
const atelier_module_v1* moduleEntry(const char* id, const char* version = "0.1.0",
                                     uint32_t minAbiMinor = ATELIER_MIN_ABI_MINOR) {
    static const atelier_module_v1 table = [&] {
        auto t = initStruct<atelier_module_v1>();
        t.id = id;
        t.version = version;
        t.description = id;
        t.min_abi_minor = minAbiMinor;
        t.init = &ModuleGlue::init<M>;
        t.start = &ModuleGlue::start;
        t.stop = &ModuleGlue::stop;
        t.destroy = &ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

// Owns a temporary data directory alongside the fake host.
class FakeHost : public FakeHostImpl {
public:
    FakeHost() : FakeHostImpl(makeTempDir()) {}
    ~FakeHost() {
        unloadAll();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    const std::string& dataDir() const { return dir_; }

private:
    static std::string makeTempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "atelier-fake-XXXXXX").string();
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
        lastDir() = buf.data();
        return lastDir();
    }
    static std::string& lastDir() {
        static thread_local std::string d;
        return d;
    }
    std::string dir_ = lastDir();
};

}  // namespace atelier::testing
