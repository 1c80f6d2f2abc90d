#include "hooks.hpp"

#include <algorithm>

namespace atelier::host {

void HookRegistry::add(const std::string& name, int priority, Handler handler, std::shared_ptr<ModuleRecord> owner) {
    std::lock_guard lock(mutex_);
    auto& list = hooks_[name];
    list.push_back(std::make_shared<const Entry>(Entry{priority, ++sequence_, std::move(handler), std::move(owner)}));
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a->priority < b->priority; });
}

void HookRegistry::removeOwner(const ModuleRecord* owner) {
    std::lock_guard lock(mutex_);
    for (auto& [name, list] : hooks_) std::erase_if(list, [&](const auto& e) { return e->owner.get() == owner; });
}

HookDecision HookRegistry::run(const std::string& name, std::string payload) const {
    std::vector<std::shared_ptr<const Entry>> list;
    {
        std::lock_guard lock(mutex_);
        auto it = hooks_.find(name);
        if (it != hooks_.end()) list = it->second;
    }
    HookDecision d;
    d.payload = std::move(payload);
    for (auto& e : list) {
        HookDecision step;
        step.payload = d.payload;
        InflightGuard guard(e->owner.get());
        e->handler(d.payload, step);
        if (step.vetoed) return step;
        d.payload = std::move(step.payload);
    }
    return d;
}

std::vector<std::string> HookRegistry::names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (auto& [k, v] : hooks_)
        if (!v.empty()) out.push_back(k);
    std::sort(out.begin(), out.end());
    return out;
}

bool HookRegistry::has(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = hooks_.find(name);
    return it != hooks_.end() && !it->second.empty();
}

}  // namespace atelier::host
