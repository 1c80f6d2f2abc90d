// Discovers module manifests, checks them against the entry tables, orders modules by their
// dependencies, and runs the lifecycle: init and start in dependency order, stop and destroy in
// reverse. A module that fails is refused with one log line, and so are its dependents.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "module_record.hpp"

namespace atelier::host {

class Host;

// Semantic-version comparison on numeric dotted parts ("1.2.10" > "1.2.9").
int compareVersions(const std::string& a, const std::string& b);
bool versionInRange(const std::string& v, const std::string& min, const std::string& maxExclusive);

class ModuleManager {
public:
    explicit ModuleManager(Host& host);
    ~ModuleManager();

    // Reads manifests from the configured directories (no dlopen yet).
    void discover();
    // Loads, initialises and starts every module that can run.
    void startAll();
    // Removes registrations, drains calls, stops and destroys in reverse order.
    void stopAll();

    // Registers a module compiled into the host (the core routes), started before the others.
    void addBuiltin(const atelier_module_v1* table);

    std::vector<std::shared_ptr<ModuleRecord>> records() const { return records_; }
    size_t runningCount() const;

private:
    void refuse(ModuleRecord& m, const std::string& why);
    bool load(ModuleRecord& m);
    void order();

    Host& host_;
    std::vector<std::shared_ptr<ModuleRecord>> records_;  // dependency order after order()
    std::vector<std::shared_ptr<ModuleRecord>> started_;
};

const atelier_host_v1* hostTable(Host* host);

}  // namespace atelier::host
