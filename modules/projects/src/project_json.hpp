// JSON adapters for the project resource: request bodies → store inputs (type checks with
// the SDK's uniform validation errors) and projects/repos → response objects.
#pragma once

#include <atelier/sdk.hpp>

#include "project_store.hpp"

namespace projects {

atelier::JsonObject projectJson(const Project& p);
atelier::JsonObject repoJson(const Repo& r);
atelier::JsonArray projectsJson(const std::vector<Project>& ps);

CreateInput parseCreate(const atelier::JsonObject& body);
UpdateInput parseUpdate(const atelier::JsonObject& body);
// `{"data":[...]}` for a list of strings, serialised directly (large file lists).
std::string dataStringArray(const std::vector<std::string>& items);
// {ids: [string...]} (non-empty strings).
std::vector<std::string> parseReorder(const atelier::JsonObject& body);

}  // namespace projects

#include "project_init.hpp"

namespace projects {
// {skipMcpJson, skipAgentsMd, skipAtelierDir | skipKombuseDir, skipGitignore}: optional booleans.
InitOptions parseInitOptions(const atelier::JsonObject& body);
atelier::JsonObject initReportJson(const Project& p, const InitReport& r);
}  // namespace projects
