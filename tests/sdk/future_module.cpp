// A module that needs a host one minor newer than this SDK's: its entry table says so, and
// its init refuses an older host by itself too.
#define ATELIER_MIN_ABI_MINOR (ATELIER_ABI_MINOR + 1)
#include <atelier/sdk.hpp>

namespace {
class FutureModule : public atelier::Module {
public:
    void init() override {
        get("/api/future", "Needs a newer host", [](atelier::Request&, atelier::Response& res) { res.noContent(); });
    }
};
}  // namespace

const atelier_module_v1* futureModuleTable() {
    static const atelier_module_v1 table = [] {
        auto t = atelier::initStruct<atelier_module_v1>();
        t.id = "future";
        t.version = "1.0.0";
        t.description = "needs a newer minor";
        t.min_abi_minor = ATELIER_MIN_ABI_MINOR;
        t.init = &atelier::ModuleGlue::init<FutureModule>;
        t.start = &atelier::ModuleGlue::start;
        t.stop = &atelier::ModuleGlue::stop;
        t.destroy = &atelier::ModuleGlue::destroy;
        return t;
    }();
    return &table;
}
