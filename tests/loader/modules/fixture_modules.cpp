// Fixture modules for the loader tests. One source, several libraries: FIXTURE_KIND selects
// what each library does wrong (or right).
#include <atelier/sdk.hpp>
#include <chrono>
#include <fstream>
#include <thread>

namespace {

class GoodModule : public atelier::Module {
public:
    void init() override {
        migrate({"CREATE TABLE " FIXTURE_TABLE " (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"});
        get("/api/" FIXTURE_ID "/hello", "Say hello", [this](atelier::Request& req, atelier::Response& res) {
            db().exec("INSERT INTO " FIXTURE_TABLE " (name) VALUES (?)", {req.query("name", "world")});
            auto count = db().one("SELECT COUNT(*) AS n FROM " FIXTURE_TABLE);
            auto o = atelier::makeObject();
            o->set("hello", req.query("name", "world"));
            o->set("count", count->integer("n"));
            res.json(o);
        });
        get("/api/" FIXTURE_ID "/slow", "Answers after ?ms= milliseconds; creates ?started= first",
            [](atelier::Request& req, atelier::Response& res) {
                if (auto marker = req.queryOpt("started"))
                    std::ofstream(*marker) << "started\n";  // the test waits on it
                std::this_thread::sleep_for(std::chrono::milliseconds(req.queryInt("ms", 100, 0, 5000)));
                res.json(Poco::Dynamic::Var("done"));
            });
        // LIKE with a bound pattern makes SQLite re-prepare inside step(): column names must survive.
        get("/api/" FIXTURE_ID "/search", "Search names", [this](atelier::Request& req, atelier::Response& res) {
            auto rows = db().query("SELECT name AS matched_name FROM " FIXTURE_TABLE " WHERE name LIKE ? ORDER BY id",
                                   {"%" + req.query("q") + "%"});
            auto list = atelier::makeArray();
            for (auto& r : rows) list->add(r.text("matched_name"));
            res.json(list);
        });
    }
};

class ThrowingModule : public atelier::Module {
public:
    void init() override { throw std::runtime_error("deliberate failure in init"); }
};

class BadTableModule : public atelier::Module {
public:
    void init() override { migrate({"CREATE TABLE other_things (id INTEGER)"}); }
};

}  // namespace

#if FIXTURE_KIND == 1  // a good module
ATELIER_MODULE(GoodModule)
#elif FIXTURE_KIND == 2  // init throws
ATELIER_MODULE(ThrowingModule)
#elif FIXTURE_KIND == 3  // wrong ABI major in the entry table
extern "C" ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {
    static atelier_module_v1 t = [] {
        auto x = atelier::initStruct<atelier_module_v1>();
        x.abi_major = 99;
        x.id = FIXTURE_ID;
        x.version = "1.0.0";
        x.init = [](const atelier_host_v1*, atelier_module_ctx*, void**) { return 0; };
        return x;
    }();
    return &t;
}
#elif FIXTURE_KIND == 4  // no entry symbol at all
extern "C" ATELIER_EXPORT int atelier_something_else(void) { return 42; }
#elif FIXTURE_KIND == 5  // init returns an error through set_error (plain C style)
extern "C" ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {
    static atelier_module_v1 t = [] {
        auto x = atelier::initStruct<atelier_module_v1>();
        x.id = FIXTURE_ID;
        x.version = "1.0.0";
        x.init = [](const atelier_host_v1* host, atelier_module_ctx* ctx, void**) {
            host->set_error(ctx, atelier::str("database unreachable"));
            return static_cast<int>(ATELIER_ERR_INTERNAL);
        };
        return x;
    }();
    return &t;
}
#elif FIXTURE_KIND == 6  // a migration that touches another module's namespace
ATELIER_MODULE(BadTableModule)
#elif FIXTURE_KIND == 7  // needs a newer ABI minor than the host offers; init itself would succeed
extern "C" ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {
    static atelier_module_v1 t = [] {
        auto x = atelier::initStruct<atelier_module_v1>();
        x.abi_minor = ATELIER_ABI_MINOR + 1;
        x.min_abi_minor = ATELIER_ABI_MINOR + 1;
        x.id = FIXTURE_ID;
        x.version = "1.0.0";
        x.init = [](const atelier_host_v1*, atelier_module_ctx*, void**) { return 0; };
        return x;
    }();
    return &t;
}
#elif FIXTURE_KIND == 8  // built against a newer minor but needs only 1.0: loads
extern "C" ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {
    static atelier_module_v1 t = [] {
        auto x = atelier::initStruct<atelier_module_v1>();
        x.abi_minor = ATELIER_ABI_MINOR + 1;
        x.min_abi_minor = 0;
        x.id = FIXTURE_ID;
        x.version = "1.0.0";
        x.init = [](const atelier_host_v1*, atelier_module_ctx*, void**) { return 0; };
        return x;
    }();
    return &t;
}
#endif
