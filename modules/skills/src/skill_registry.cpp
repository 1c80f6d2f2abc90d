#include "skill_registry.hpp"

#include <algorithm>
#include <atelier/util.hpp>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "domain_error.hpp"
#include "front_matter.hpp"

namespace atelier::skills {

namespace {

// Request field → front matter key, in the documented order.
const std::vector<std::pair<std::string, std::string>>& requestKeys() {
    static const std::vector<std::pair<std::string, std::string>> keys{
        {"name", "name"},
        {"description", "description"},
        {"allowedTools", "allowed-tools"},
        {"context", "context"},
        {"agent", "agent"},
        {"model", "model"},
        {"argumentHint", "argument-hint"},
        {"disableModelInvocation", "disable-model-invocation"},
        {"userInvocable", "user-invocable"},
        {"mode", "mode"}};
    return keys;
}

bool isBoolKey(const std::string& key) {
    return key == "disable-model-invocation" || key == "user-invocable" || key == "mode";
}

// Known keys first in the documented order, then any others in their existing order.
Fields ordered(const Fields& in) {
    Fields out;
    for (const auto& key : skillFrontMatterKeys())
        for (const auto& [k, v] : in)
            if (k == key) out.emplace_back(k, v);
    for (const auto& [k, v] : in)
        if (std::find(skillFrontMatterKeys().begin(), skillFrontMatterKeys().end(), k) == skillFrontMatterKeys().end())
            out.emplace_back(k, v);
    return out;
}

// "Emitted only if set": empty strings, false flags and the default user-invocable: true are left out.
bool isSet(const std::string& key, const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) return false;
    if (v.isString()) return !v.extract<std::string>().empty();
    if (v.isBoolean()) return key == "user-invocable" ? !v.extract<bool>() : v.extract<bool>();
    return true;
}

void checkString(const JsonObject& b, const std::string& field, size_t max) {
    if (!b->has(field) || b->isNull(field)) return;
    if (!b->get(field).isString()) throw invalid(field, "must be a string");
    if (b->getValue<std::string>(field).size() > max)
        throw invalid(field, "must be at most " + std::to_string(max) + " characters");
}

std::string relativeLink(const fs::path& linkDir, const fs::path& target) {
    std::error_code ec;
    fs::path base = fs::weakly_canonical(linkDir, ec);
    fs::path t = fs::weakly_canonical(target, ec);
    return t.lexically_relative(base).string();
}

void scanTree(const fs::path& root, int maxDepth, const fs::path& skip,
              const std::function<void(const fs::path&)>& onSkill) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return;
    size_t visited = 0;
    auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++visited > 200000) break;
        auto st = it->symlink_status(ec);
        if (!fs::is_directory(st)) continue;
        auto name = it->path().filename().string();
        if (name == "node_modules" || name == ".git" || (!skip.empty() && it->path() == skip)) {
            it.disable_recursion_pending();
            continue;
        }
        if (fs::is_regular_file(it->path() / "SKILL.md", ec)) {
            onSkill(it->path());
            it.disable_recursion_pending();
            continue;
        }
        if (it.depth() + 1 >= maxDepth) it.disable_recursion_pending();
    }
}

}  // namespace

const std::vector<std::string>& skillFrontMatterKeys() {
    static const std::vector<std::string> keys{
        "name",           "description", "allowed-tools", "context",
        "agent",          "model",       "argument-hint", "disable-model-invocation",
        "user-invocable", "mode"};
    return keys;
}

fs::path SkillRegistry::skillDir(const std::string& name) const {
    if (!isSafeName(name)) throw invalid("name", "must be lowercase letters, digits, '-' or '_'", "INVALID_SKILL_NAME");
    fs::path dir = root_ / name;
    std::error_code ec;
    if (!fs::is_regular_file(dir / "SKILL.md", ec)) throw notFoundError("SKILL_NOT_FOUND", "Skill not found");
    return dir;
}

JsonObject SkillRegistry::summary(const std::string& name) const {
    fs::path dir = root_ / name;
    JsonObject o = makeObject();
    o->set("name", name);
    FrontMatter fm;
    try {
        fm = parseFrontMatter(readFile(dir / "SKILL.md"));
    } catch (const DomainError&) {
    }
    o->set("displayName", fm.text("name", name));
    o->set("description", fm.text("description"));
    o->set("path", dir.string());
    return o;
}

JsonArray SkillRegistry::list() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> names;
    std::error_code ec;
    if (fs::is_directory(root_, ec))
        for (auto& e : fs::directory_iterator(root_, ec))
            if (isSafeName(e.path().filename().string()) && fs::is_regular_file(e.path() / "SKILL.md", ec))
                names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    JsonArray out = makeArray();
    for (auto& n : names) out->add(summary(n));
    return out;
}

JsonObject SkillRegistry::get(const std::string& name) const {
    std::lock_guard lock(mu_);
    fs::path dir = skillDir(name);
    JsonObject o = summary(name);
    std::string md = readFile(dir / "SKILL.md");
    o->set("skillMd", md);
    FrontMatter fm;
    try {
        fm = parseFrontMatter(md);
    } catch (const DomainError&) {
    }
    o->set("frontmatter", fm.json());
    auto ref = readFileIfExists(dir / "reference.md");
    o->set("hasReference", ref.has_value());
    if (ref) o->set("referenceMd", *ref);
    auto ex = readFileIfExists(dir / "examples.md");
    o->set("hasExamples", ex.has_value());
    if (ex) o->set("examplesMd", *ex);
    return o;
}

JsonObject SkillRegistry::create(const JsonObject& b) {
    if (!b->has("name") || b->isNull("name")) throw invalid("name", "is required");
    checkString(b, "name", 64);
    std::string name = b->getValue<std::string>("name");
    if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
        name.find("..") != std::string::npos)
        throw invalid("name", "must not contain '/', '\\' or '..'", "INVALID_SKILL_NAME");
    std::string dirName = skillDirName(name);
    if (!isSafeName(dirName) || dirName.find_first_not_of('-') == std::string::npos)
        throw invalid("name", "must start with a letter or digit", "INVALID_SKILL_NAME");
    Fields fields;
    for (const auto& [field, key] : requestKeys()) {
        if (!b->has(field) || b->isNull(field)) continue;
        if (isBoolKey(key)) {
            if (!b->get(field).isBoolean()) throw invalid(field, "must be a boolean");
        } else {
            checkString(b, field, field == "description" ? 4096 : 1024);
        }
        if (isSet(key, b->get(field))) fields.emplace_back(key, b->get(field));
    }
    checkString(b, "instructions", 1024 * 1024);
    std::string body = atelier::has(b, "instructions") ? b->getValue<std::string>("instructions") : "";
    std::string md = renderFrontMatter(fields, body);

    std::lock_guard lock(mu_);
    fs::path dir = root_ / dirName;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dir, ec)))
        throw conflictError("SKILL_EXISTS", "Skill \"" + dirName + "\" already exists");
    fs::create_directories(root_);
    fs::path tmp = root_ / (".new-" + dirName + "-" + atelier::randomHex(8));
    fs::create_directories(tmp);
    writeFileAtomic(tmp / "SKILL.md", md);
    fs::rename(tmp, dir, ec);
    if (ec) {
        fs::remove_all(tmp, ec);
        throw conflictError("SKILL_EXISTS", "Skill \"" + dirName + "\" already exists");
    }
    return summary(dirName);
}

void SkillRegistry::update(const std::string& name, const JsonObject& b) {
    checkString(b, "skillMd", 1024 * 1024);
    checkString(b, "referenceMd", 1024 * 1024);
    checkString(b, "examplesMd", 1024 * 1024);
    if (b->has("frontmatter") && !b->isNull("frontmatter") && b->get("frontmatter").type() != typeid(JsonObject))
        throw invalid("frontmatter", "must be an object");
    std::lock_guard lock(mu_);
    fs::path dir = skillDir(name);
    // Everything is validated and rendered before the first file is written.
    std::optional<std::string> newMd;
    if (atelier::has(b, "skillMd")) {
        std::string md = b->getValue<std::string>("skillMd");
        auto fm = parseFrontMatter(md);
        if (!fm.present) throw invalid("skillMd", "must start with a front matter block", "INVALID_FRONTMATTER");
        newMd = md;
    } else if (atelier::has(b, "frontmatter")) {
        auto fm = parseFrontMatter(readFile(dir / "SKILL.md"));
        auto patch = b->getObject("frontmatter");
        for (const auto& key : patch->getNames()) {
            if (key.empty() || key.size() > 100) throw invalid("frontmatter", "keys must be 1 to 100 characters");
            auto v = patch->get(key);
            if (isBoolKey(key) && !v.isEmpty() && !v.isBoolean())
                throw invalid("frontmatter." + key, "must be a boolean");
            auto it = std::find_if(fm.fields.begin(), fm.fields.end(), [&](auto& f) { return f.first == key; });
            if (v.isEmpty() || (std::find(skillFrontMatterKeys().begin(), skillFrontMatterKeys().end(), key) !=
                                    skillFrontMatterKeys().end() &&
                                !isSet(key, v))) {
                if (it != fm.fields.end()) fm.fields.erase(it);
            } else if (it != fm.fields.end()) {
                it->second = v;
            } else {
                fm.fields.emplace_back(key, v);
            }
        }
        newMd = renderFrontMatter(ordered(fm.fields), fm.body);
    }
    if (newMd) writeFileAtomic(dir / "SKILL.md", *newMd);
    for (auto [field, file] : {std::pair{"referenceMd", "reference.md"}, std::pair{"examplesMd", "examples.md"}}) {
        if (!b->has(field) || b->isNull(field)) continue;
        std::string content = b->getValue<std::string>(field);
        std::error_code ec;
        if (content.empty())
            fs::remove(dir / file, ec);
        else
            writeFileAtomic(dir / file, content);
    }
}

bool SkillRegistry::deployedAt(const std::string& name, const Target& t, const fs::path& projectRoot) const {
    if (t.scope == "project" && projectRoot.empty()) return false;
    fs::path p = targetDir(t, "skills", projectRoot) / name;
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    if (fs::is_symlink(st)) return true;
    return t.scope == "project" && fs::is_directory(st) && fs::is_regular_file(p / "SKILL.md", ec);
}

void SkillRegistry::remove(const std::string& name, const fs::path& projectRoot) {
    std::lock_guard lock(mu_);
    fs::path dir = skillDir(name);
    for (const auto& agent : agentNames()) {
        for (const auto& scope : scopeNames()) {
            if (scope == "project" && projectRoot.empty()) continue;
            fs::path link = targetDir({agent, scope}, "skills", projectRoot) / name;
            std::error_code ec;
            if (!isSymlink(link)) continue;
            // Only links into this registry entry are ours to remove.
            fs::path resolved = fs::weakly_canonical(link, ec);
            if (resolved == fs::weakly_canonical(dir, ec)) fs::remove(link, ec);
        }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) throw std::runtime_error("cannot remove skill: " + ec.message());
}

void SkillRegistry::deploy(const std::string& name, const Target& t, const fs::path& projectRoot) {
    std::lock_guard lock(mu_);
    fs::path dir = skillDir(name);
    fs::path parent = targetDir(t, "skills", projectRoot);
    fs::path link = parent / name;
    std::error_code ec;
    auto st = fs::symlink_status(link, ec);
    if (fs::is_symlink(st)) {
        if (fs::weakly_canonical(link, ec) == fs::weakly_canonical(dir, ec)) return;  // already deployed
        throw conflictError("DEPLOY_CONFLICT",
                            "A different skill link named \"" + name + "\" exists in " + parent.string());
    }
    if (fs::exists(st))
        throw conflictError("DEPLOY_CONFLICT",
                            "\"" + name + "\" already exists in " + parent.string() + " and is not a registry link");
    fs::create_directories(parent);
    fs::create_directory_symlink(relativeLink(parent, dir), link);
}

void SkillRegistry::undeploy(const std::string& name, const Target& t, const fs::path& projectRoot) {
    std::lock_guard lock(mu_);
    if (!isSafeName(name)) throw invalid("name", "must be lowercase letters, digits, '-' or '_'", "INVALID_SKILL_NAME");
    fs::path link = targetDir(t, "skills", projectRoot) / name;
    std::error_code ec;
    auto st = fs::symlink_status(link, ec);
    if (fs::is_symlink(st)) {
        fs::remove(link);
        return;
    }
    // A real directory belongs to the user or another tool: never delete it from here.
    if (fs::exists(st))
        throw conflictError("NOT_A_DEPLOYMENT", "\"" + link.string() + "\" is not a registry link; remove it by hand");
}

JsonObject SkillRegistry::deploymentStatus(const fs::path& projectRoot) const {
    std::set<std::string> names, inRegistry;
    {
        std::lock_guard lock(mu_);
        std::error_code ec;
        if (fs::is_directory(root_, ec))
            for (auto& e : fs::directory_iterator(root_, ec))
                if (isSafeName(e.path().filename().string()) && fs::is_regular_file(e.path() / "SKILL.md", ec))
                    inRegistry.insert(e.path().filename().string());
    }
    names = inRegistry;
    for (const auto& agent : agentNames())
        for (const auto& scope : scopeNames()) {
            if (scope == "project" && projectRoot.empty()) continue;
            fs::path d = targetDir({agent, scope}, "skills", projectRoot);
            std::error_code ec;
            if (!fs::is_directory(d, ec)) continue;
            for (auto& e : fs::directory_iterator(d, ec)) {
                std::string n = e.path().filename().string();
                if (isSafeName(n) && deployedAt(n, {agent, scope}, projectRoot)) names.insert(n);
            }
        }
    JsonObject status = makeObject();
    for (const auto& n : names) {
        JsonObject entry = makeObject();
        entry->set("inRegistry", inRegistry.count(n) > 0);
        JsonObject agents = makeObject();
        for (const auto& agent : agentNames()) {
            JsonObject s = makeObject();
            for (const auto& scope : scopeNames()) s->set(scope, deployedAt(n, {agent, scope}, projectRoot));
            agents->set(agent, s);
        }
        entry->set("agents", agents);
        status->set(n, entry);
    }
    JsonObject out = makeObject();
    out->set("status", status);
    return out;
}

JsonArray SkillRegistry::scan(const std::string& mode, const std::string& scanPath, const fs::path& projectRoot) const {
    const ScanRoot scan = scanRoot(mode, scanPath, projectRoot);
    const fs::path& root = scan.root;
    const int depth = scan.depth;
    if (!root.is_absolute()) throw invalid("scanPath", "must be an absolute path");
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw invalid("scanPath", "is not a directory");
    JsonArray out = makeArray();
    scanTree(root, depth, root_, [&](const fs::path& dir) {
        if (out->size() >= 1000) return;
        FrontMatter fm;
        try {
            fm = parseFrontMatter(readFile(dir / "SKILL.md", 1024 * 1024));
        } catch (const std::exception&) {
            return;
        }
        std::string name = skillDirName(dir.filename().string());
        JsonObject o = makeObject();
        o->set("name", name);
        o->set("displayName", fm.text("name", name));
        o->set("description", fm.text("description"));
        o->set("skillPath", dir.string());
        o->set("alreadyInRegistry", isSafeName(name) && fs::is_regular_file(root_ / name / "SKILL.md", ec));
        out->add(o);
    });
    return out;
}

void SkillRegistry::importDir(const fs::path& from, const std::string& name) {
    fs::create_directories(root_);
    fs::path tmp = root_ / (".import-" + name + "-" + atelier::randomHex(8));
    try {
        copyTree(from, tmp, 32ull * 1024 * 1024);
        fs::rename(tmp, root_ / name);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

JsonObject SkillRegistry::import(const JsonObject& b) {
    if (!b->has("skills") || b->get("skills").type() != typeid(JsonArray)) throw invalid("skills", "must be an array");
    auto arr = b->getArray("skills");
    if (arr->size() > 500) throw invalid("skills", "must have at most 500 entries");
    struct Item {
        std::string name;
        fs::path path;
    };
    std::vector<Item> items;
    for (size_t i = 0; i < arr->size(); ++i) {
        std::string f = "skills[" + std::to_string(i) + "]";
        auto o = arr->getObject(static_cast<unsigned>(i));
        if (!o) throw invalid(f, "must be an object");
        if (!o->has("skillPath") || !o->get("skillPath").isString()) throw invalid(f + ".skillPath", "is required");
        fs::path p = o->getValue<std::string>("skillPath");
        if (!p.is_absolute()) throw invalid(f + ".skillPath", "must be an absolute path");
        std::error_code ec;
        // Follow a deployed link to the real directory, but only when it holds a SKILL.md.
        fs::path real = fs::canonical(p, ec);
        if (ec || !fs::is_directory(real, ec) || !fs::is_regular_file(real / "SKILL.md", ec))
            throw invalid(f + ".skillPath", "is not a directory with a SKILL.md");
        std::string name =
            o->has("name") && o->get("name").isString() ? o->getValue<std::string>("name") : p.filename().string();
        name = skillDirName(name);
        if (!isSafeName(name)) throw invalid(f + ".name", "is not a valid skill name", "INVALID_SKILL_NAME");
        items.push_back({name, real});
    }
    std::lock_guard lock(mu_);
    JsonArray imported = makeArray(), skipped = makeArray();
    for (auto& it : items) {
        std::error_code ec;
        if (fs::exists(fs::symlink_status(root_ / it.name, ec)) ||
            fs::weakly_canonical(it.path, ec) == fs::weakly_canonical(root_ / it.name, ec)) {
            skipped->add(it.name);
            continue;
        }
        importDir(it.path, it.name);
        imported->add(it.name);
    }
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("imported", imported);
    out->set("skipped", skipped);
    return out;
}

bool SkillRegistry::npxAvailable() {
    if (!findOnPath("npx")) return false;
    // --no: never download the CLI just to answer the question.
    auto r = runProcess({"npx", "--no", "skills", "--help"}, homeDir(), {}, 15000);
    return r.started && !r.timedOut && r.exitCode == 0;
}

JsonObject SkillRegistry::install(const JsonObject& b, const fs::path& projectRoot) {
    checkString(b, "repo", 300);
    checkString(b, "skill", 100);
    checkString(b, "scope", 20);
    if (!atelier::has(b, "repo")) throw invalid("repo", "is required");
    std::string repo = b->getValue<std::string>("repo");
    static const std::regex repoRe(
        "^([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+|https://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+)$");
    if (!std::regex_match(repo, repoRe)) throw invalid("repo", "must be owner/repo or an https URL");
    std::string skill = atelier::has(b, "skill") ? b->getValue<std::string>("skill") : "";
    static const std::regex skillRe("^[A-Za-z0-9][A-Za-z0-9._-]*$");
    if (!skill.empty() && !std::regex_match(skill, skillRe)) throw invalid("skill", "must be a skill name");
    std::string scope = atelier::has(b, "scope") ? b->getValue<std::string>("scope") : "global";
    std::vector<std::string> agents;
    if (atelier::has(b, "agents")) {
        if (b->get("agents").type() != typeid(JsonArray)) throw invalid("agents", "must be an array");
        auto a = b->getArray("agents");
        for (size_t i = 0; i < a->size(); ++i) {
            if (!a->get(static_cast<unsigned>(i)).isString()) throw invalid("agents", "must contain agent names");
            agents.push_back(parseTarget(a->getElement<std::string>(static_cast<unsigned>(i)), scope).agent);
        }
    } else {
        parseTarget("claude", scope);
    }
    if (!findOnPath("npx")) throw unavailable("NPX_UNAVAILABLE", "npx is not installed on this machine");
    std::vector<std::string> argv{"npx", "--yes", "skills", "add", repo};
    if (!skill.empty()) argv.insert(argv.end(), {"-s", skill});
    for (auto& a : agents) argv.insert(argv.end(), {"-a", a});
    if (scope == "global") argv.push_back("--global");
    fs::path cwd = scope == "global" ? homeDir() : projectRoot;
    if (cwd.empty()) throw invalid("scope", "project scope needs an active project with a local path", "NO_PROJECT");

    // The CLI writes into the agents' skills directories; what is new there afterwards was installed.
    auto snapshot = [&] {
        std::map<std::string, fs::path> found;
        for (const auto& agent : agentNames()) {
            fs::path d = targetDir({agent, scope}, "skills", projectRoot);
            std::error_code ec;
            if (!fs::is_directory(d, ec)) continue;
            for (auto& e : fs::directory_iterator(d, ec))
                if (fs::is_regular_file(e.path() / "SKILL.md", ec)) found.emplace(e.path().string(), e.path());
        }
        return found;
    };
    auto before = snapshot();
    auto r = runProcess(argv, cwd, {}, 300000);
    if (!r.started) throw unavailable("NPX_UNAVAILABLE", "npx could not be started");
    if (r.timedOut) throw unavailable("INSTALL_TIMEOUT", "npx skills add did not finish in time");
    if (r.exitCode != 0) {
        std::string tail = r.output.size() > 2000 ? r.output.substr(r.output.size() - 2000) : r.output;
        throw DomainError(DomainError::Kind::Unavailable, "INSTALL_FAILED",
                          "npx skills add failed (exit " + std::to_string(r.exitCode) + "): " + tail);
    }
    JsonArray installed = makeArray();
    std::lock_guard lock(mu_);
    for (auto& [key, path] : snapshot()) {
        if (before.count(key)) continue;
        std::string name = skillDirName(path.filename().string());
        std::error_code ec;
        if (!isSafeName(name) || fs::exists(fs::symlink_status(root_ / name, ec))) continue;
        importDir(fs::canonical(path), name);
        installed->add(name);
    }
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("installed", installed);
    return out;
}

}  // namespace atelier::skills
