#include "front_matter.hpp"

#include <yaml-cpp/yaml.h>

#include <regex>

#include "domain_error.hpp"

namespace atelier::skills {

namespace {

Poco::Dynamic::Var toVar(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Scalar: {
            const std::string& s = n.Scalar();
            if (n.Tag() == "!") return s;  // quoted: always a string
            if (s == "true" || s == "True" || s == "TRUE") return true;
            if (s == "false" || s == "False" || s == "FALSE") return false;
            static const std::regex intRe("^[-+]?[0-9]{1,18}$");
            if (std::regex_match(s, intRe)) return static_cast<Poco::Int64>(std::stoll(s));
            if (s == "~" || s == "null") return Poco::Dynamic::Var();
            return s;
        }
        case YAML::NodeType::Sequence: {
            JsonArray a = makeArray();
            for (const auto& item : n) a->add(toVar(item));
            return a;
        }
        case YAML::NodeType::Map: {
            JsonObject o = makeObject();
            for (const auto& kv : n) o->set(kv.first.as<std::string>(), toVar(kv.second));
            return o;
        }
        default:
            return Poco::Dynamic::Var();
    }
}

void emit(YAML::Emitter& out, const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) {
        out << YAML::Null;
    } else if (v.type() == typeid(JsonObject)) {
        auto o = v.extract<JsonObject>();
        out << YAML::BeginMap;
        for (const auto& name : o->getNames()) {
            out << YAML::Key << name << YAML::Value;
            emit(out, o->get(name));
        }
        out << YAML::EndMap;
    } else if (v.type() == typeid(JsonArray)) {
        auto a = v.extract<JsonArray>();
        out << YAML::BeginSeq;
        for (size_t i = 0; i < a->size(); ++i) emit(out, a->get(static_cast<unsigned>(i)));
        out << YAML::EndSeq;
    } else if (v.isBoolean()) {
        out << v.extract<bool>();
    } else if (v.isInteger()) {
        out << v.convert<Poco::Int64>();
    } else if (v.isNumeric()) {
        out << v.convert<double>();
    } else {
        out << v.convert<std::string>();
    }
}

}  // namespace

const Poco::Dynamic::Var* FrontMatter::find(std::string_view key) const {
    for (const auto& [k, v] : fields)
        if (k == key) return &v;
    return nullptr;
}

std::string FrontMatter::text(std::string_view key, std::string fallback) const {
    auto v = find(key);
    if (!v || v->isEmpty() || v->type() == typeid(JsonObject) || v->type() == typeid(JsonArray)) return fallback;
    return v->convert<std::string>();
}

JsonObject FrontMatter::json() const {
    JsonObject o = makeObject();
    for (const auto& [k, v] : fields) o->set(k, v);
    return o;
}

FrontMatter parseFrontMatter(std::string_view md) {
    FrontMatter fm;
    std::string_view rest = md;
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    auto lineEnd = rest.find('\n');
    std::string_view first = rest.substr(0, lineEnd);
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    if (first != "---" || lineEnd == std::string_view::npos) {
        fm.body = std::string(md);
        return fm;
    }
    size_t pos = lineEnd + 1;
    size_t close = std::string_view::npos;
    while (pos <= rest.size()) {
        size_t e = rest.find('\n', pos);
        std::string_view line = rest.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line == "---") {
            close = pos;
            pos = e == std::string_view::npos ? rest.size() : e + 1;
            break;
        }
        if (e == std::string_view::npos) break;
        pos = e + 1;
    }
    if (close == std::string_view::npos)
        throw invalid("frontmatter", "is not closed by a '---' line", "INVALID_FRONTMATTER");
    std::string yaml(rest.substr(lineEnd + 1, close - lineEnd - 1));
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw invalid("frontmatter", std::string("is not valid YAML: ") + e.msg, "INVALID_FRONTMATTER");
    }
    if (root && !root.IsNull() && !root.IsMap())
        throw invalid("frontmatter", "must be a YAML mapping", "INVALID_FRONTMATTER");
    fm.present = true;
    if (root && root.IsMap()) {
        for (const auto& kv : root) {
            if (!kv.first.IsScalar()) throw invalid("frontmatter", "keys must be strings", "INVALID_FRONTMATTER");
            fm.fields.emplace_back(kv.first.Scalar(), toVar(kv.second));
        }
    }
    std::string_view body = rest.substr(pos);
    // The blank line after the closing marker belongs to the layout, not the body.
    if (body.substr(0, 1) == "\n")
        body.remove_prefix(1);
    else if (body.substr(0, 2) == "\r\n")
        body.remove_prefix(2);
    fm.body = std::string(body);
    return fm;
}

std::string renderFrontMatter(const Fields& fields, std::string_view body) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    for (const auto& [k, v] : fields) {
        if (v.isEmpty()) continue;
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
    }
    out << YAML::EndMap;
    std::string yaml = fields.empty() ? "" : std::string(out.c_str()) + "\n";
    if (yaml == "{}\n") yaml.clear();
    return "---\n" + yaml + "---\n\n" + std::string(body);
}

}  // namespace atelier::skills
