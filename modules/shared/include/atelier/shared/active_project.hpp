// Resolves the active project for OpenKit-style routes (no project in the path): the
// `project` query parameter or `X-Atelier-Project` header, else the server's start project.
// Asks the projects module in process (a contract between first-party modules, so it lives
// beside them, not in the SDK); throws HttpError with its answer on failure.
#pragma once

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

namespace atelier {

struct ActiveProject {
    std::string id;
    std::string slug;
    std::string name;
    std::string localPath;  // may be empty
    JsonObject raw;         // the whole project object
};

inline ActiveProject resolveActiveProject(const Module& module, const Request& req) {
    std::string path = "/api/active-project";
    JsonObject headers = makeObject();
    if (req.hasQuery("project")) path += "?project=" + urlEncode(req.query("project"));
    if (req.hasHeader("X-Atelier-Project")) headers->set("X-Atelier-Project", req.header("X-Atelier-Project"));
    auto r = module.host().call("GET", path, {}, toJson(headers));
    if (r.status == 404 && r.body.find("\"NOT_FOUND\"") != std::string::npos &&
        r.body.find("project") == std::string::npos)
        throw HttpError(400, "NO_ACTIVE_PROJECT", "No projects module is loaded to resolve the active project");
    auto o = r.json();
    if (r.status != 200 || !o) {
        if (o && o->has("code"))
            throw HttpError(r.status, o->getValue<std::string>("code"), o->optValue<std::string>("error", "error"));
        throw HttpError(400, "NO_ACTIVE_PROJECT", "No active project");
    }
    JsonObject p = o->has("data") && o->getObject("data") ? o->getObject("data") : o;
    ActiveProject out;
    out.raw = p;
    out.id = p->optValue<std::string>("id", "");
    out.slug = p->optValue<std::string>("slug", "");
    out.name = p->optValue<std::string>("name", "");
    if (p->has("local_path") && !p->isNull("local_path")) out.localPath = p->getValue<std::string>("local_path");
    return out;
}

}  // namespace atelier
