// Parsing of comment bodies into mentions: `@[Display Name](profile-id)` for profiles and
// `#number` for tickets of the same project. Text inside code spans and fenced code blocks
// is ignored; `#` inside a word (`C#1`, `page#3`) is not a reference. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tickets {

struct ParsedMention {
    std::string type;  // profile | ticket
    std::string profileId;
    int64_t ticketNumber = 0;
    std::string text;  // the source text, e.g. "@[Ada](p-1)" or "#12"
};

// Mentions in order of first appearance, each target once.
std::vector<ParsedMention> parseMentions(std::string_view body);

}  // namespace tickets
