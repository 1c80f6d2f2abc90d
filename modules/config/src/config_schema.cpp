#include "config_schema.hpp"

#include "domain_error.hpp"

#include <functional>
#include <map>
#include <regex>

namespace atelier::config {

namespace {

using Var = Poco::Dynamic::Var;

const std::set<std::string> kOpenTargets{"file-manager", "cursor", "vscode", "zed", "intellij",
                                         "webstorm", "terminal", "warp", "ghostty", "neovim"};

JsonObject asObject(const Var& v) {
    if (v.type() == typeid(JsonObject)) return v.extract<JsonObject>();
    return nullptr;
}
JsonArray asArray(const Var& v) {
    if (v.type() == typeid(JsonArray)) return v.extract<JsonArray>();
    return nullptr;
}

[[noreturn]] void fail(const std::string& field, const std::string& msg) { throw invalid(field, field + " " + msg); }

void expectBool(const std::string& f, const Var& v) {
    if (!v.isBoolean()) fail(f, "must be a boolean");
}
void expectString(const std::string& f, const Var& v) {
    if (!v.isString()) fail(f, "must be a string");
}
int64_t expectInt(const std::string& f, const Var& v, int64_t lo, int64_t hi) {
    if (!v.isInteger() || v.isBoolean()) fail(f, "must be an integer");
    int64_t n = v.convert<int64_t>();
    if (n < lo || n > hi) fail(f, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return n;
}
void expectEnum(const std::string& f, const Var& v, const std::set<std::string>& allowed) {
    expectString(f, v);
    if (!allowed.count(v.extract<std::string>())) {
        std::string list;
        for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(f, "must be one of: " + list);
    }
}
void expectStringArray(const std::string& f, const Var& v) {
    auto a = asArray(v);
    if (!a) fail(f, "must be an array of strings");
    for (size_t i = 0; i < a->size(); ++i)
        if (!a->get(i).isString()) fail(f, "must be an array of strings");
}
void expectRelativePath(const std::string& f, const Var& v) {
    expectString(f, v);
    auto s = v.extract<std::string>();
    if (s.empty() || s == ".") return;
    if (s.front() == '/' || s.find('\0') != std::string::npos) fail(f, "must be a relative path inside the project");
    size_t start = 0;
    while (start <= s.size()) {
        size_t slash = s.find('/', start);
        std::string part = s.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part == "..") fail(f, "must be a relative path inside the project");
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}
void expectBranchName(const std::string& f, const Var& v) {
    expectString(f, v);
    auto s = v.extract<std::string>();
    static const std::regex bad(R"(^$|\.\.|[\s~^:?*\[\\]|^[-/.]|/$|\.lock$|@\{)");
    if (std::regex_search(s, bad)) fail(f, "must be a valid branch name");
}

using Check = std::function<void(const std::string&, const Var&)>;

void checkObject(const std::string& f, const Var& v, const std::map<std::string, Check>& fields) {
    auto o = asObject(v);
    if (!o) fail(f, "must be an object");
    for (auto& [k, val] : *o) {
        std::string name = f + "." + k;
        auto it = fields.find(k);
        if (it == fields.end()) fail(name, "is not a known field");
        if (val.isEmpty()) continue;  // null resets to the default
        it->second(name, val);
    }
}

Check boolC() {
    return [](const std::string& f, const Var& v) { expectBool(f, v); };
}
Check intC(int64_t lo, int64_t hi) {
    return [=](const std::string& f, const Var& v) { expectInt(f, v, lo, hi); };
}
Check strArrC() {
    return [](const std::string& f, const Var& v) { expectStringArray(f, v); };
}

const std::map<std::string, Check>& configFields() {
    static const std::map<std::string, Check> m = [] {
        std::map<std::string, Check> c;
        auto str = [](const std::string& f, const Var& v) { expectString(f, v); };
        c["projectDir"] = expectRelativePath;
        c["startCommand"] = str;
        c["installCommand"] = str;
        c["baseBranch"] = expectBranchName;
        c["serverPort"] = intC(1, 65535);
        c["ports"] = [](const std::string& f, const Var& v) {
            checkObject(f, v,
                        {{"discovered",
                          [](const std::string& ff, const Var& vv) {
                              auto a = asArray(vv);
                              if (!a) fail(ff, "must be an array of port numbers");
                              for (size_t i = 0; i < a->size(); ++i) expectInt(ff, a->get(i), 1, 65535);
                          }},
                         {"offsetStep", intC(1, 10000)}});
        };
        c["envMapping"] = [](const std::string& f, const Var& v) {
            auto o = asObject(v);
            if (!o) fail(f, "must be an object of strings");
            static const std::regex name("^[A-Za-z_][A-Za-z0-9_]*$");
            for (auto& [k, val] : *o) {
                if (!std::regex_match(k, name)) fail(f + "." + k, "is not a valid environment variable name");
                if (!val.isString()) fail(f + "." + k, "must be a string");
            }
        };
        c["autoInstall"] = boolC();
        c["localIssuePrefix"] = [](const std::string& f, const Var& v) {
            expectString(f, v);
            static const std::regex re("^[A-Za-z][A-Za-z0-9]{0,15}$");
            if (!std::regex_match(v.extract<std::string>(), re)) fail(f, "must be 1-16 letters or digits starting with a letter");
        };
        c["localAutoStartAgent"] = [](const std::string& f, const Var& v) {
            expectEnum(f, v, {"claude", "codex", "gemini", "opencode"});
        };
        c["localAutoStartClaudeOnNewIssue"] = boolC();
        c["localAutoStartClaudeSkipPermissions"] = boolC();
        c["localAutoStartClaudeFocusTerminal"] = boolC();
        c["openProjectTarget"] = [](const std::string& f, const Var& v) { expectEnum(f, v, kOpenTargets); };
        c["framework"] = [](const std::string& f, const Var& v) { expectEnum(f, v, {"react-native", "expo", "generic"}); };
        c["showDiffStats"] = boolC();
        c["activity"] = [](const std::string& f, const Var& v) {
            checkObject(f, v,
                        {{"retentionDays", intC(1, 3650)},
                         {"maxSizeMB", intC(1, 100000)},
                         {"categories",
                          [](const std::string& ff, const Var& vv) {
                              checkObject(ff, vv, {{"agent", boolC()}, {"worktree", boolC()}, {"system", boolC()}});
                          }},
                         {"disabledEvents", strArrC()},
                         {"toastEvents", strArrC()},
                         {"osNotificationEvents", strArrC()}});
        };
        c["opsLog"] = [](const std::string& f, const Var& v) {
            checkObject(f, v, {{"retentionDays", intC(1, 3650)}, {"maxSizeMB", intC(1, 100000)}});
        };
        c["devServer"] = [](const std::string& f, const Var& v) {
            checkObject(f, v,
                        {{"logLines", intC(10, 100000)},
                         {"logFileMaxBytes", intC(4096, int64_t(1) << 32)},
                         {"logFileKeep", intC(0, 20)},
                         {"stopGraceMs", intC(100, 60000)},
                         {"readyTimeoutMs", intC(100, 600000)}});
        };
        for (auto& k : localOnlyKeys()) c[k] = boolC();
        return c;
    }();
    return m;
}

const std::map<std::string, Check>& localFields() {
    static const std::map<std::string, Check> m = [] {
        std::map<std::string, Check> c;
        for (auto& k : localOnlyKeys()) c[k] = boolC();
        c["arrowNavEnabled"] = boolC();
        c["shortcuts"] = [](const std::string& f, const Var& v) {
            auto o = asObject(v);
            if (!o) fail(f, "must be an object of strings");
            for (auto& [k, val] : *o)
                if (!val.isString() && !val.isEmpty()) fail(f + "." + k, "must be a string");
        };
        return c;
    }();
    return m;
}

void validateWith(const JsonObject& patch, const std::map<std::string, Check>& fields) {
    for (auto& [k, v] : *patch) {
        auto it = fields.find(k);
        if (it == fields.end()) fail(k, "is not a known field");
        if (v.isEmpty()) continue;
        it->second(k, v);
    }
}

}  // namespace

const std::set<std::string>& localOnlyKeys() {
    static const std::set<std::string> keys{"allowAgentCommits", "allowAgentPushes", "allowAgentPRs",
                                            "useNativePortHook", "autoCleanupOnPrMerge", "autoCleanupOnPrClose"};
    return keys;
}

JsonObject defaultConfig() {
    auto o = makeObject();
    o->set("projectDir", ".");
    o->set("startCommand", "");
    o->set("installCommand", "");
    o->set("baseBranch", "main");
    auto ports = makeObject();
    ports->set("discovered", makeArray());
    ports->set("offsetStep", 1);
    o->set("ports", ports);
    o->set("envMapping", makeObject());
    o->set("autoInstall", true);
    o->set("localIssuePrefix", "LOCAL");
    o->set("localAutoStartAgent", "claude");
    o->set("localAutoStartClaudeOnNewIssue", false);
    o->set("localAutoStartClaudeSkipPermissions", true);
    o->set("localAutoStartClaudeFocusTerminal", true);
    o->set("framework", "generic");
    o->set("showDiffStats", true);
    auto activity = makeObject();
    activity->set("retentionDays", 30);
    activity->set("maxSizeMB", 50);
    auto cats = makeObject();
    cats->set("agent", true);
    cats->set("worktree", true);
    cats->set("system", true);
    activity->set("categories", cats);
    activity->set("disabledEvents", makeArray());
    activity->set("toastEvents", makeArray());
    activity->set("osNotificationEvents", makeArray());
    o->set("activity", activity);
    auto ops = makeObject();
    ops->set("retentionDays", 7);
    ops->set("maxSizeMB", 50);
    o->set("opsLog", ops);
    auto dev = makeObject();
    dev->set("logLines", 1000);
    dev->set("logFileMaxBytes", 5 * 1024 * 1024);
    dev->set("logFileKeep", 3);
    dev->set("stopGraceMs", 5000);
    dev->set("readyTimeoutMs", 60000);
    o->set("devServer", dev);
    return o;
}

JsonObject defaultLocalConfig() {
    auto o = makeObject();
    o->set("allowAgentCommits", false);
    o->set("allowAgentPushes", false);
    o->set("allowAgentPRs", false);
    o->set("useNativePortHook", false);
    o->set("arrowNavEnabled", true);
    o->set("autoCleanupOnPrMerge", false);
    o->set("autoCleanupOnPrClose", false);
    auto s = makeObject();
    s->set("project-tab", "meta");
    s->set("nav-worktrees", "meta+w");
    s->set("nav-issues", "meta+i");
    s->set("nav-agents", "meta+a");
    s->set("nav-activity", "meta+l");
    s->set("nav-integrations", "meta+e");
    s->set("nav-settings", "meta+s");
    o->set("shortcuts", s);
    return o;
}

void validateConfigPatch(const JsonObject& patch) { validateWith(patch, configFields()); }
void validateLocalConfigPatch(const JsonObject& patch) { validateWith(patch, localFields()); }

Var deepCopy(const Var& v) {
    if (auto o = asObject(v)) {
        auto out = makeObject();
        for (auto& [k, val] : *o) out->set(k, deepCopy(val));
        return out;
    }
    if (auto a = asArray(v)) {
        auto out = makeArray();
        for (size_t i = 0; i < a->size(); ++i) out->add(deepCopy(a->get(i)));
        return out;
    }
    return v;
}

void mergeInto(JsonObject base, const JsonObject& patch, const std::set<std::string>& deepKeys) {
    for (auto& [k, v] : *patch) {
        if (v.isEmpty()) {
            base->remove(k);
            continue;
        }
        auto pv = asObject(v);
        auto bv = base->has(k) ? asObject(base->get(k)) : nullptr;
        if (pv && bv && deepKeys.count(k)) {
            auto merged = asObject(deepCopy(bv));
            // nested objects one level further down (activity.categories) merge too
            mergeInto(merged, pv, {"categories"});
            base->set(k, merged);
        } else {
            base->set(k, deepCopy(v));
        }
    }
}

JsonObject overlay(const JsonObject& defaults, const JsonObject& stored) {
    auto out = asObject(deepCopy(defaults));
    if (!stored) return out;
    for (auto& [k, v] : *stored) {
        if (v.isEmpty()) continue;
        auto sv = asObject(v);
        auto dv = out->has(k) ? asObject(out->get(k)) : nullptr;
        if (sv && dv && k != "envMapping" && k != "shortcuts") out->set(k, overlay(dv, sv));
        else if (sv && dv && k == "shortcuts") out->set(k, overlay(dv, sv));
        else out->set(k, deepCopy(v));
    }
    return out;
}

}  // namespace atelier::config
