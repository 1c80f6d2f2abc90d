// Markdown with YAML front matter (SKILL.md, agent definitions, package agents), parsed and
// written with yaml-cpp. Values cross as Poco JSON values so callers never see YAML types.
#pragma once

#include <atelier/sdk.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atelier::skills {

using Fields = std::vector<std::pair<std::string, Poco::Dynamic::Var>>;

struct FrontMatter {
    bool present = false;
    Fields fields;  // in document order
    std::string body;

    const Poco::Dynamic::Var* find(std::string_view key) const;
    std::string text(std::string_view key, std::string fallback = {}) const;  // scalar as text
    JsonObject json() const;
};

// Throws DomainError (Invalid, INVALID_FRONTMATTER) when the YAML is malformed or not a mapping.
FrontMatter parseFrontMatter(std::string_view markdown);
// "---\n<yaml, keys in the given order>---\n\n<body>". Null values are omitted.
std::string renderFrontMatter(const Fields& fields, std::string_view body);

}  // namespace atelier::skills
