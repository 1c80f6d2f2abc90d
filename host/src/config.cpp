#include "config.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <atelier/sdk.hpp>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace atelier::host {

namespace {
std::vector<std::string> strings(const Poco::JSON::Array::Ptr& a) {
    std::vector<std::string> out;
    if (!a) return out;
    for (size_t i = 0; i < a->size(); ++i) out.push_back(a->getElement<std::string>(static_cast<unsigned>(i)));
    return out;
}
std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',' || c == ':') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}
std::vector<Listener> parseListeners(const Poco::JSON::Array::Ptr& a) {
    if (!a) throw std::runtime_error("listeners must be an array of {host, port, flavor}");
    std::vector<Listener> out;
    for (size_t i = 0; i < a->size(); ++i) {
        std::string where = "listeners[" + std::to_string(i) + "]";
        auto o = a->getObject(static_cast<unsigned>(i));
        if (!o) throw std::runtime_error(where + " must be an object {host, port, flavor}");
        Listener l;
        if (o->has("host")) l.host = o->getValue<std::string>("host");
        if (l.host.empty()) throw std::runtime_error(where + ".host must not be empty");
        if (!o->has("port") || !o->get("port").isInteger()) throw std::runtime_error(where + ".port must be a number");
        l.port = o->getValue<int>("port");
        if (l.port < 0 || l.port > 65535) throw std::runtime_error(where + ".port must be from 0 to 65535");
        std::string flavor = o->optValue<std::string>("flavor", "");
        l.flavor = atelier::flavorFromName(flavor);
        if (l.flavor < 0) throw std::runtime_error(where + ".flavor must be one of " + atelier::flavorNameList());
        out.push_back(l);
    }
    return out;
}
}  // namespace

std::string defaultDataDir() {
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/tmp") + "/.atelier";
}

void applyConfigJson(HostConfig& cfg, const std::string& json, const std::string& source) {
    Poco::JSON::Object::Ptr o;
    try {
        o = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception& e) {
        throw std::runtime_error("invalid configuration in " + source + ": not a JSON object");
    }
    try {
        if (o->has("host")) cfg.host = o->getValue<std::string>("host");
        if (o->has("port")) cfg.port = o->getValue<int>("port");
        if (o->has("listeners")) cfg.listeners = parseListeners(o->getArray("listeners"));
        if (o->has("dataDir")) cfg.dataDir = o->getValue<std::string>("dataDir");
        if (o->has("workerThreads")) cfg.workerThreads = o->getValue<int>("workerThreads");
        if (o->has("reactorThreads")) cfg.reactorThreads = o->getValue<int>("reactorThreads");
        if (o->has("streamFlushMs")) cfg.streamFlushMs = std::clamp(o->getValue<int>("streamFlushMs"), 0, 1000);
        if (o->has("fanoutThreads")) cfg.fanoutThreads = std::clamp(o->getValue<int>("fanoutThreads"), 0, 16);
        if (o->has("maxBodyBytes")) cfg.maxBodyBytes = o->getValue<size_t>("maxBodyBytes");
        if (o->has("streamBufferBytes")) cfg.streamBufferBytes = o->getValue<size_t>("streamBufferBytes");
        if (o->has("accessLog")) cfg.accessLog = o->getValue<bool>("accessLog");
        if (o->has("allowedOrigins")) cfg.allowedOrigins = strings(o->getArray("allowedOrigins"));
        if (auto auth = o->getObject("auth")) {
            if (auth->has("enabled")) cfg.authEnabled = auth->getValue<bool>("enabled");
        }
        if (auto act = o->getObject("activity")) {
            if (act->has("retentionDays")) cfg.activityRetentionDays = act->getValue<int>("retentionDays");
        }
        if (auto ops = o->getObject("opsLog")) {
            if (ops->has("retentionDays")) cfg.opsLogRetentionDays = ops->getValue<int>("retentionDays");
        }
        if (auto mods = o->getObject("modules")) {
            if (mods->has("searchPaths")) {
                for (auto& p : strings(mods->getArray("searchPaths"))) cfg.moduleDirs.push_back(p);
            }
            if (mods->has("enabled")) cfg.enabledModules = strings(mods->getArray("enabled"));
            if (mods->has("disabled")) {
                for (auto& d : strings(mods->getArray("disabled"))) cfg.disabledModules.push_back(d);
            }
            if (auto per = mods->getObject("config")) {
                for (auto& [id, value] : *per) {
                    std::ostringstream os;
                    Poco::JSON::Stringifier::condense(value, os);
                    cfg.moduleConfig[id] = os.str();
                }
            }
        }
    } catch (const std::exception& e) {
        throw std::runtime_error("invalid configuration in " + source + ": " + e.what());
    }
}

void applyEnvironment(HostConfig& cfg) {
    if (const char* v = std::getenv("ATELIER_DATA_DIR"); v && *v) cfg.dataDir = v;
    if (const char* v = std::getenv("ATELIER_PORT"); v && *v) cfg.port = std::atoi(v);
    if (const char* v = std::getenv("ATELIER_HOST"); v && *v) cfg.host = v;
    if (const char* v = std::getenv("ATELIER_MODULES_DIR"); v && *v) cfg.moduleDirs = splitList(v);
    if (const char* v = std::getenv("ATELIER_DISABLE_MODULES"); v && *v)
        for (auto& d : splitList(v)) cfg.disabledModules.push_back(d);
}

bool originAllowed(const HostConfig& cfg, const std::string& origin) {
    for (const auto& pattern : cfg.allowedOrigins) {
        if (pattern == origin) return true;
        if (pattern.size() > 2 && pattern.compare(pattern.size() - 2, 2, ":*") == 0) {
            std::string base = pattern.substr(0, pattern.size() - 1);  // "http://localhost:"
            if (origin.rfind(base, 0) == 0) {
                std::string port = origin.substr(base.size());
                if (!port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos) return true;
            }
            if (origin == pattern.substr(0, pattern.size() - 2)) return true;  // no port
        }
    }
    return false;
}

bool hostHeaderAllowed(const std::string& hostHeader) {
    std::string h = hostHeader;
    for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string name;
    if (!h.empty() && h[0] == '[') {
        auto close = h.find(']');
        if (close == std::string::npos) return false;
        name = h.substr(0, close + 1);
        std::string rest = h.substr(close + 1);
        if (!rest.empty() && (rest[0] != ':' || rest.find_first_not_of("0123456789", 1) != std::string::npos)) return false;
    } else {
        auto colon = h.find(':');
        name = h.substr(0, colon);
        if (colon != std::string::npos && h.find_first_not_of("0123456789", colon + 1) != std::string::npos) return false;
    }
    return name == "localhost" || name == "127.0.0.1" || name == "[::1]";
}

bool isLoopbackAddress(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace atelier::host
