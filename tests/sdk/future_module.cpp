// A module that needs a host one minor newer than this SDK's: its entry table says so, and
// its init refuses an older host by itself too.
#define ATELIER_MIN_ABI_MINOR (ATELIER_ABI_MINOR + 1)
#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>

namespace {
class FutureModule : public atelier::Module {
public:
    void init() override {
        get("/api/future", "Needs a newer host", [](atelier::Request&, atelier::Response& res) { res.noContent(); });
    }
};
}  // namespace

const atelier_module_v1* futureModuleTable() { return atelier::testing::moduleEntry<FutureModule>("future", "1.0.0"); }
