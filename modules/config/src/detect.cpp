#include "detect.hpp"

#include <atelier/shared/git.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "project_config.hpp"

namespace atelier::config {

namespace {

bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

std::set<std::string> makeTargets(const fs::path& makefile) {
    std::set<std::string> out;
    std::ifstream in(makefile);
    std::string line;
    static const std::regex target(R"(^([A-Za-z0-9_.-]+)\s*:([^=]|$))");
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, target)) out.insert(m[1]);
    }
    return out;
}

std::string runScript(const std::string& pm, const std::string& script) {
    if (pm == "npm") return script == "start" ? "npm start" : "npm run " + script;
    if (pm == "yarn") return "yarn " + script;
    if (pm == "bun") return "bun run " + script;
    return pm + " " + script;  // pnpm
}

}  // namespace

std::string detectDefaultBranch(const fs::path& root) {
    git_repository* rawRepo = nullptr;
    if (git_repository_open_ext(&rawRepo, root.c_str(), 0, nullptr) != 0) return "main";
    git::Repo repo(rawRepo);
    // The reference `lookup` fills, owned, or null when it fails.
    auto ref = [](auto lookup) {
        git_reference* r = nullptr;
        return git::Ref(lookup(&r) == 0 ? r : nullptr);
    };
    std::string out;
    if (auto origin =
            ref([&](git_reference** r) { return git_reference_lookup(r, repo.get(), "refs/remotes/origin/HEAD"); });
        origin && git_reference_type(origin.get()) == GIT_REFERENCE_SYMBOLIC) {
        std::string target = git_reference_symbolic_target(origin.get());
        const std::string prefix = "refs/remotes/origin/";
        if (target.rfind(prefix, 0) == 0) out = target.substr(prefix.size());
    }
    for (const char* name : {"main", "master", "develop"}) {
        if (!out.empty()) break;
        if (ref([&](git_reference** r) { return git_branch_lookup(r, repo.get(), name, GIT_BRANCH_LOCAL); }))
            out = name;
    }
    if (out.empty()) {
        git_reference* rawHead = nullptr;
        int rc = git_repository_head(&rawHead, repo.get());
        git::Ref head(rc == 0 ? rawHead : nullptr);
        if (head) {
            if (git_reference_is_branch(head.get())) out = git_reference_shorthand(head.get());
        } else if (rc == GIT_EUNBORNBRANCH) {
            // unborn HEAD: use the branch HEAD points at
            auto sym = ref([&](git_reference** r) { return git_reference_lookup(r, repo.get(), "HEAD"); });
            if (sym && git_reference_type(sym.get()) == GIT_REFERENCE_SYMBOLIC) {
                std::string t = git_reference_symbolic_target(sym.get());
                if (t.rfind("refs/heads/", 0) == 0) out = t.substr(11);
            }
        }
    }
    return out.empty() ? "main" : out;
}

JsonObject detectConfig(const fs::path& root) {
    auto out = makeObject();
    auto from = makeArray();
    std::string start, install, pm, framework = "generic";

    fs::path pkg = root / "package.json";
    if (isFile(pkg)) {
        from->add("package.json");
        if (isFile(root / "pnpm-lock.yaml")) pm = "pnpm", from->add("pnpm-lock.yaml");
        else if (isFile(root / "yarn.lock")) pm = "yarn", from->add("yarn.lock");
        else if (isFile(root / "bun.lockb") || isFile(root / "bun.lock")) pm = "bun", from->add("bun.lock");
        else if (isFile(root / "package-lock.json")) pm = "npm", from->add("package-lock.json");
        else pm = "npm";
        JsonObject scripts, deps;
        try {
            auto o = readJsonFile(pkg);
            if (o && o->has("scripts")) scripts = o->getObject("scripts");
            if (o && o->has("dependencies")) deps = o->getObject("dependencies");
            if (o && o->has("packageManager") && o->get("packageManager").isString()) {
                std::string declared = o->getValue<std::string>("packageManager");
                for (const char* cand : {"pnpm", "yarn", "bun", "npm"})
                    if (declared.rfind(std::string(cand) + "@", 0) == 0) pm = cand;
            }
        } catch (...) {
        }
        if (scripts) {
            for (const char* s : {"dev", "start", "serve"}) {
                if (scripts->has(s)) {
                    start = runScript(pm, s);
                    break;
                }
            }
        }
        if (deps && deps->has("expo")) framework = "expo";
        else if (deps && deps->has("react-native")) framework = "react-native";
        install = pm + " install";
    }
    if (isFile(root / "Cargo.toml")) {
        from->add("Cargo.toml");
        if (start.empty()) start = "cargo run";
        if (install.empty()) install = "cargo build";
    }
    if (isFile(root / "go.mod")) {
        from->add("go.mod");
        if (start.empty()) start = "go run .";
        if (install.empty()) install = "go mod download";
    }
    if (isFile(root / "pyproject.toml")) {
        from->add("pyproject.toml");
        std::string runner;
        if (isFile(root / "uv.lock")) {
            if (install.empty()) install = "uv sync";
            runner = "uv run ";
        } else if (isFile(root / "poetry.lock")) {
            if (install.empty()) install = "poetry install";
            runner = "poetry run ";
        } else if (install.empty()) {
            install = "pip install -e .";
        }
        if (start.empty()) {
            if (isFile(root / "manage.py")) start = runner + "python manage.py runserver";
            else if (isFile(root / "main.py")) start = runner + "python main.py";
            else if (isFile(root / "app.py")) start = runner + "python app.py";
        }
    }
    if (isFile(root / "Makefile")) {
        from->add("Makefile");
        auto targets = makeTargets(root / "Makefile");
        if (start.empty()) {
            for (const char* t : {"dev", "run", "start", "serve"})
                if (targets.count(t)) {
                    start = std::string("make ") + t;
                    break;
                }
        }
        if (install.empty()) {
            for (const char* t : {"install", "deps", "setup"})
                if (targets.count(t)) {
                    install = std::string("make ") + t;
                    break;
                }
            if (install.empty()) install = "make";
        }
    }
    if (isFile(root / "CMakeLists.txt")) {
        from->add("CMakeLists.txt");
        if (install.empty()) install = "cmake -S . -B build && cmake --build build";
    }
    out->set("startCommand", start);
    out->set("installCommand", install);
    out->set("baseBranch", detectDefaultBranch(root));
    if (!pm.empty()) out->set("packageManager", pm);
    else out->set("packageManager", Poco::Dynamic::Var());
    out->set("framework", framework);
    out->set("projectDir", ".");
    out->set("detectedFrom", from);
    return out;
}

}  // namespace atelier::config
