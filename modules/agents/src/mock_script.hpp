// The built-in `mock` backend's script language, read from the run's task text. One directive
// per line; any other line is plain task text. See modules/agents/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace agents {

struct MockStep {
    enum class Kind { Emit, Tool, Write, Fail, Hang, Sleep, Tokens, Crash } kind = Kind::Emit;
    std::string text;     // emit text, tool name, write path, fail reason
    std::string arg;      // tool argument, write content (escapes decoded)
    int64_t ms = 0;       // sleep
    int64_t tokensIn = -1, tokensOut = -1;
    double cost = -1;
    int line = 0;
};

struct MockScript {
    std::vector<MockStep> steps;
    std::vector<std::string> errors;  // "line N: message"
};

MockScript parseMockScript(const std::string& task);
// Validates a relative path for `write:` (no absolute paths, no `..`, not inside .git).
bool isSafeRelativePath(const std::string& path);

}  // namespace agents
