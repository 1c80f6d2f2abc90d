#include "module_manager.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "host.hpp"

namespace atelier::host {

namespace fs = std::filesystem;

const char* stateName(ModuleState s) {
    switch (s) {
        case ModuleState::Discovered: return "discovered";
        case ModuleState::Disabled: return "disabled";
        case ModuleState::Refused: return "refused";
        case ModuleState::Initialized: return "initialized";
        case ModuleState::Started: return "running";
        case ModuleState::Stopped: return "stopped";
    }
    return "unknown";
}

int compareVersions(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& v) {
        std::vector<long> out;
        std::string cur;
        for (char c : v) {
            if (c == '.' || c == '-' || c == '+') {
                out.push_back(cur.empty() ? 0 : std::atol(cur.c_str()));
                cur.clear();
                if (c != '.') break;
            } else {
                cur.push_back(c);
            }
        }
        if (!cur.empty()) out.push_back(std::atol(cur.c_str()));
        while (out.size() < 3) out.push_back(0);
        return out;
    };
    auto pa = parts(a), pb = parts(b);
    for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
        if (pa[i] < pb[i]) return -1;
        if (pa[i] > pb[i]) return 1;
    }
    return 0;
}

bool versionInRange(const std::string& v, const std::string& min, const std::string& maxExclusive) {
    if (!min.empty() && compareVersions(v, min) < 0) return false;
    if (!maxExclusive.empty() && compareVersions(v, maxExclusive) >= 0) return false;
    return true;
}

ModuleManager::ModuleManager(Host& host) : host_(host) {}
ModuleManager::~ModuleManager() = default;

size_t ModuleManager::runningCount() const {
    return static_cast<size_t>(std::count_if(records_.begin(), records_.end(),
                                             [](const auto& m) { return m->lifecycle == ModuleState::Started; }));
}

void ModuleManager::refuse(ModuleRecord& m, const std::string& why) {
    m.lifecycle = ModuleState::Refused;
    {
        std::lock_guard lock(m.errorMutex);
        m.error = why;
    }
    host_.log().log(Logger::Error, "loader", "module '" + m.id + "' refused: " + why);
}

void ModuleManager::discover() {
    static const std::regex idPattern("^[a-z][a-z0-9-]{0,63}$");
    std::set<std::string> seen;
    const auto& cfg = host_.config();
    for (const auto& dir : cfg.moduleDirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            host_.log().log(Logger::Warn, "loader", "module directory not found: " + dir);
            continue;
        }
        std::vector<fs::path> manifests;
        for (auto& entry : fs::directory_iterator(dir, ec)) {
            auto name = entry.path().filename().string();
            if (name.size() > 12 && name.compare(name.size() - 12, 12, ".module.json") == 0) manifests.push_back(entry.path());
        }
        std::sort(manifests.begin(), manifests.end());
        for (auto& path : manifests) {
            auto m = std::make_shared<ModuleRecord>();
            m->manifestPath = path.string();
            std::string fileId = path.filename().string();
            fileId = fileId.substr(0, fileId.size() - 12);
            m->id = fileId;
            try {
                std::ifstream in(path);
                std::stringstream ss;
                ss << in.rdbuf();
                auto o = Poco::JSON::Parser().parse(ss.str()).extract<Poco::JSON::Object::Ptr>();
                m->id = o->getValue<std::string>("id");
                m->version = o->optValue<std::string>("version", "0.0.0");
                m->description = o->optValue<std::string>("description", "");
                int abi = o->optValue<int>("abi", 0);
                if (auto reqs = o->getArray("requires")) {
                    for (size_t i = 0; i < reqs->size(); ++i) {
                        auto r = reqs->getObject(static_cast<unsigned>(i));
                        m->requires_.push_back(Requirement{r->getValue<std::string>("id"), r->optValue<std::string>("min", ""),
                                                           r->optValue<std::string>("max", "")});
                    }
                }
                m->libraryPath = (path.parent_path() / ("lib" + m->id + ".so")).string();
                if (!std::regex_match(m->id, idPattern) || m->id == "host") {
                    refuse(*m, "invalid module id '" + m->id + "'");
                } else if (m->id != fileId) {
                    refuse(*m, "manifest id '" + m->id + "' does not match its file name");
                } else if (abi != ATELIER_ABI_MAJOR) {
                    refuse(*m, "ABI major " + std::to_string(abi) + " is not supported (host has " +
                                   std::to_string(ATELIER_ABI_MAJOR) + ")");
                } else if (!fs::exists(m->libraryPath)) {
                    refuse(*m, "library " + m->libraryPath + " not found");
                }
            } catch (const std::exception& e) {
                refuse(*m, std::string("unreadable manifest ") + path.string());
            }
            if (seen.count(m->id)) continue;  // the first search path wins
            seen.insert(m->id);
            auto cfgIt = cfg.moduleConfig.find(m->id);
            if (cfgIt != cfg.moduleConfig.end()) m->config = cfgIt->second;
            bool disabled = std::find(cfg.disabledModules.begin(), cfg.disabledModules.end(), m->id) != cfg.disabledModules.end();
            if (!cfg.enabledModules.empty() &&
                std::find(cfg.enabledModules.begin(), cfg.enabledModules.end(), m->id) == cfg.enabledModules.end())
                disabled = true;
            if (disabled && m->lifecycle == ModuleState::Discovered) {
                m->lifecycle = ModuleState::Disabled;
                m->error = "disabled by configuration";
            }
            records_.push_back(m);
        }
    }
    order();
}

void ModuleManager::order() {
    // Kahn's algorithm over the requirement graph; modules in a cycle are refused.
    std::map<std::string, std::shared_ptr<ModuleRecord>> byId;
    for (auto& m : records_)
        if (m->id != "host") byId[m->id] = m;
    std::map<std::string, int> indegree;
    std::map<std::string, std::vector<std::string>> dependents;
    for (auto& [id, m] : byId) {
        indegree[id];
        for (auto& r : m->requires_) {
            if (byId.count(r.id)) {
                indegree[id]++;
                dependents[r.id].push_back(id);
            }
        }
    }
    std::vector<std::string> ready;
    for (auto& [id, d] : indegree)
        if (d == 0) ready.push_back(id);
    std::vector<std::shared_ptr<ModuleRecord>> sorted;
    while (!ready.empty()) {
        std::sort(ready.begin(), ready.end(), std::greater<>());
        std::string id = ready.back();
        ready.pop_back();
        sorted.push_back(byId[id]);
        for (auto& dep : dependents[id])
            if (--indegree[dep] == 0) ready.push_back(dep);
    }
    for (auto& [id, m] : byId) {
        if (std::find(sorted.begin(), sorted.end(), m) == sorted.end()) {
            if (m->lifecycle == ModuleState::Discovered) refuse(*m, "dependency cycle involving '" + id + "'");
            sorted.push_back(m);
        }
    }
    std::vector<std::shared_ptr<ModuleRecord>> builtins;
    for (auto& m : records_)
        if (m->id == "host") builtins.push_back(m);
    records_ = builtins;
    records_.insert(records_.end(), sorted.begin(), sorted.end());
}

void ModuleManager::addBuiltin(const atelier_module_v1* table) {
    auto m = std::make_shared<ModuleRecord>();
    m->id = table->id;
    m->version = table->version;
    m->description = table->description ? table->description : "";
    m->table = table;
    // A built-in module reads its configuration like any other (modules.config.<id>).
    if (auto it = host_.config().moduleConfig.find(m->id); it != host_.config().moduleConfig.end())
        m->config = it->second;
    records_.insert(records_.begin(), m);
}

bool ModuleManager::load(ModuleRecord& m) {
    if (m.table) return true;  // built in
    try {
        // RTLD_NODELETE: unload never unmaps code that a stray pointer could still reach.
        auto mode = static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        m.library = std::make_shared<boost::dll::shared_library>(boost::dll::fs::path(m.libraryPath), mode);
        if (!m.library->has(ATELIER_MODULE_ENTRY_SYMBOL)) {
            refuse(m, "missing entry symbol " ATELIER_MODULE_ENTRY_SYMBOL " in " + m.libraryPath);
            return false;
        }
        auto entry = m.library->get<const atelier_module_v1*()>(ATELIER_MODULE_ENTRY_SYMBOL);
        const atelier_module_v1* t = entry();
        if (!t) {
            refuse(m, "entry function returned no table");
            return false;
        }
        if (t->abi_major != ATELIER_ABI_MAJOR) {
            refuse(m, "entry table ABI major " + std::to_string(t->abi_major) + " does not match host ABI " +
                          std::to_string(ATELIER_ABI_MAJOR));
            return false;
        }
        // Every field up to `destroy` is ABI 1.0; anything appended later is read only through
        // ATELIER_HAS_FIELD.
        if (!ATELIER_HAS_FIELD(t, atelier_module_v1, destroy) || !t->id || !t->init) {
            refuse(m, "entry table too small or incomplete");
            return false;
        }
        if (ATELIER_HAS_FIELD(t, atelier_module_v1, min_abi_minor) && t->min_abi_minor > ATELIER_ABI_MINOR) {
            refuse(m, "needs ABI " + std::to_string(ATELIER_ABI_MAJOR) + "." + std::to_string(t->min_abi_minor) +
                          ", host offers " + std::to_string(ATELIER_ABI_MAJOR) + "." +
                          std::to_string(ATELIER_ABI_MINOR));
            return false;
        }
        if (m.id != t->id) {
            refuse(m, std::string("entry table id '") + t->id + "' does not match manifest id '" + m.id + "'");
            return false;
        }
        if (t->version && m.version != t->version) {
            refuse(m, std::string("entry table version ") + t->version + " does not match manifest version " + m.version);
            return false;
        }
        // The requirements the code declares must be the ones the manifest declared.
        std::set<std::string> codeReqs, manifestReqs;
        for (size_t i = 0; i < t->requires_count; ++i)
            if (t->requires_list && t->requires_list[i].id) codeReqs.insert(t->requires_list[i].id);
        for (auto& r : m.requires_) manifestReqs.insert(r.id);
        if (codeReqs != manifestReqs) {
            refuse(m, "requirements in the entry table differ from module.json");
            return false;
        }
        m.table = t;
        return true;
    } catch (const std::exception& e) {
        refuse(m, std::string("cannot load library: ") + e.what());
        return false;
    }
}

void ModuleManager::startAll() {
    std::map<std::string, ModuleRecord*> byId;
    for (auto& m : records_) byId[m->id] = m.get();
    for (auto& mp : records_) {
        ModuleRecord& m = *mp;
        if (m.lifecycle != ModuleState::Discovered) continue;
        // Requirements: present, running, and in the version range.
        std::string missing;
        for (auto& r : m.requires_) {
            auto it = byId.find(r.id);
            if (it == byId.end()) {
                missing = "requires module '" + r.id + "', which is not installed";
            } else if (it->second->lifecycle != ModuleState::Started) {
                missing = "requires module '" + r.id + "', which is " + stateName(it->second->lifecycle);
            } else if (!versionInRange(it->second->version, r.min, r.max)) {
                missing = "requires '" + r.id + "' in [" + (r.min.empty() ? "*" : r.min) + ", " +
                          (r.max.empty() ? "*" : r.max) + "), found " + it->second->version;
            }
            if (!missing.empty()) break;
        }
        if (!missing.empty()) {
            refuse(m, missing);
            continue;
        }
        auto start = std::chrono::steady_clock::now();
        if (!load(m)) continue;
        // The context token: one per module, owned by the host for the process lifetime.
        auto* ctx = new atelier_module_ctx{&host_, mp};
        m.acceptingRegistrations = true;
        int rc;
        try {
            rc = m.table->init(hostTable(&host_), ctx, &m.state);
        } catch (...) {
            rc = ATELIER_ERR_INTERNAL;
        }
        m.acceptingRegistrations = false;
        if (rc != ATELIER_OK) {
            std::string why;
            {
                std::lock_guard lock(m.errorMutex);
                why = m.error.empty() ? "init failed with status " + std::to_string(rc) : "init failed: " + m.error;
            }
            // Anything it registered before failing goes away with it.
            host_.router().removeOwner(&m);
            host_.bus().removeOwner(&m);
            host_.hooks().removeOwner(&m);
            host_.timers().removeOwner(&m);
            m.routeCount = 0;
            refuse(m, why);
            continue;
        }
        m.lifecycle = ModuleState::Initialized;
        try {
            rc = m.table->start ? m.table->start(m.state) : ATELIER_OK;
        } catch (...) {
            rc = ATELIER_ERR_INTERNAL;
        }
        if (rc != ATELIER_OK) {
            std::string why;
            {
                std::lock_guard lock(m.errorMutex);
                why = "start failed" + (m.error.empty() ? std::string() : ": " + m.error);
            }
            host_.router().removeOwner(&m);
            host_.bus().removeOwner(&m);
            host_.hooks().removeOwner(&m);
            host_.timers().removeOwner(&m);
            if (m.table->stop) m.table->stop(m.state);
            if (m.table->destroy) m.table->destroy(m.state);
            m.state = nullptr;
            m.routeCount = 0;
            refuse(m, why);
            continue;
        }
        m.lifecycle = ModuleState::Started;
        started_.push_back(mp);
        auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
        host_.log().log(Logger::Info, "loader",
                        "module '" + m.id + "' " + m.version + " started (" + std::to_string(m.routeCount.load()) +
                            " routes, " + std::to_string(ms / 1000.0).substr(0, 5) + " ms)");
    }
}

void ModuleManager::stopAll() {
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
        ModuleRecord& m = **it;
        host_.router().removeOwner(&m);
        host_.bus().removeOwner(&m);
        host_.hooks().removeOwner(&m);
        host_.timers().removeOwner(&m);
        // Wait for calls already inside the module (bounded).
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (m.inflight.load() > 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        try {
            if (m.table->stop) m.table->stop(m.state);
        } catch (...) {
        }
        m.lifecycle = ModuleState::Stopped;
    }
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
        ModuleRecord& m = **it;
        try {
            if (m.table->destroy) m.table->destroy(m.state);
        } catch (...) {
        }
        m.state = nullptr;
    }
    started_.clear();
}

}  // namespace atelier::host
