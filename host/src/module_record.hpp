// The host's record of one module: manifest, entry table, lifecycle state, and the library
// handle. Every registration (route, hook, subscription, timer) holds a shared_ptr to its
// record, so the library outlives everything that can still run its code.
#pragma once

#include <atelier/abi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace atelier::host {

class Host;

enum class ModuleState { Discovered, Disabled, Refused, Initialized, Started, Stopped };
const char* stateName(ModuleState s);

struct Requirement {
    std::string id;
    std::string min;  // inclusive, empty = any
    std::string max;  // exclusive, empty = any
};

struct ModuleRecord {
    std::string id;
    std::string version;
    std::string description;
    std::string libraryPath;
    std::string manifestPath;
    std::vector<Requirement> requires_;
    std::shared_ptr<boost::dll::shared_library> library;
    const atelier_module_v1* table = nullptr;
    void* state = nullptr;
    ModuleState lifecycle = ModuleState::Discovered;
    std::string error;
    std::string config = "{}";
    std::atomic<int> inflight{0};
    std::atomic<int> routeCount{0};
    bool acceptingRegistrations = false;  // only during init
    std::mutex errorMutex;
};

// Counts a call into a module so unload can wait for it to drain.
class InflightGuard {
public:
    explicit InflightGuard(ModuleRecord* m) : m_(m) {
        if (m_) m_->inflight.fetch_add(1, std::memory_order_acq_rel);
    }
    ~InflightGuard() {
        if (m_) m_->inflight.fetch_sub(1, std::memory_order_acq_rel);
    }
    InflightGuard(const InflightGuard&) = delete;
    InflightGuard& operator=(const InflightGuard&) = delete;

private:
    ModuleRecord* m_;
};

}  // namespace atelier::host

// The context token modules receive: which host, which module.
struct atelier_module_ctx {
    atelier::host::Host* host;
    std::shared_ptr<atelier::host::ModuleRecord> module;
};
