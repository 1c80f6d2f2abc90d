// Named synchronous extension points. Handlers run in ascending priority in the caller's
// thread; each sees the payload the previous one left and may replace it or veto.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "module_record.hpp"

namespace atelier::host {

struct HookDecision {
    bool vetoed = false;
    std::string payload;  // final payload, or the veto reason
};

class HookRegistry {
public:
    // A handler gets the current payload and returns: nullopt-like (keep) by leaving `out`
    // untouched, or sets out.payload / out.vetoed.
    using Handler = std::function<void(const std::string& payload, HookDecision& out)>;
    void add(const std::string& name, int priority, Handler handler, std::shared_ptr<ModuleRecord> owner);
    void removeOwner(const ModuleRecord* owner);
    HookDecision run(const std::string& name, std::string payload) const;
    // Whether any handler is registered for `name` (lets a caller skip building a payload).
    bool has(const std::string& name) const;
    std::vector<std::string> names() const;

private:
    struct Entry {
        int priority;
        long sequence;
        Handler handler;
        std::shared_ptr<ModuleRecord> owner;
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<const Entry>>> hooks_;
    long sequence_ = 0;
};

}  // namespace atelier::host
