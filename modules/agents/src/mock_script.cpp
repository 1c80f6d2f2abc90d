#include "mock_script.hpp"

#include <cctype>
#include <sstream>

namespace agents {

namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::string unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char n = s[++i];
            if (n == 'n') out.push_back('\n');
            else if (n == 't') out.push_back('\t');
            else out.push_back(n);
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

bool parseInt(const std::string& s, int64_t& out) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    try {
        out = std::stoll(s);
    } catch (...) {
        return false;
    }
    return true;
}

}  // namespace

bool isSafeRelativePath(const std::string& path) {
    if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) return false;
    std::stringstream ss(path);
    std::string part;
    bool first = true;
    while (std::getline(ss, part, '/')) {
        if (part == "..") return false;
        if (first && part == ".git") return false;
        first = false;
    }
    return path.back() != '/';
}

MockScript parseMockScript(const std::string& task) {
    MockScript s;
    std::stringstream in(task);
    std::string raw;
    int lineNo = 0;
    while (std::getline(in, raw)) {
        ++lineNo;
        std::string line = trim(raw);
        if (line.empty()) continue;
        auto err = [&](const std::string& m) { s.errors.push_back("line " + std::to_string(lineNo) + ": " + m); };
        MockStep step;
        step.line = lineNo;
        if (line == "hang") {
            step.kind = MockStep::Kind::Hang;
            s.steps.push_back(step);
            continue;
        }
        if (line == "crash") {
            step.kind = MockStep::Kind::Crash;
            s.steps.push_back(step);
            continue;
        }
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        std::string value = trim(line.substr(colon + 1));
        if (key == "emit") {
            step.kind = MockStep::Kind::Emit;
            step.text = unescape(value);
            if (step.text.empty()) err("emit needs text");
        } else if (key == "tool") {
            step.kind = MockStep::Kind::Tool;
            size_t sp = value.find(' ');
            step.text = value.substr(0, sp);
            step.arg = sp == std::string::npos ? "" : trim(value.substr(sp + 1));
            if (step.text.empty()) err("tool needs a tool name");
        } else if (key == "write") {
            step.kind = MockStep::Kind::Write;
            size_t eq = value.find('=');
            if (eq == std::string::npos) {
                err("write needs path=content");
                continue;
            }
            step.text = trim(value.substr(0, eq));
            step.arg = unescape(value.substr(eq + 1));
            if (!isSafeRelativePath(step.text)) err("write path must be relative and stay inside the worktree");
        } else if (key == "fail") {
            step.kind = MockStep::Kind::Fail;
            step.text = value.empty() ? "mock failure" : value;
        } else if (key == "sleep") {
            step.kind = MockStep::Kind::Sleep;
            if (!parseInt(value, step.ms) || step.ms > 600000) err("sleep needs milliseconds (0..600000)");
        } else if (key == "tokens") {
            step.kind = MockStep::Kind::Tokens;
            std::stringstream kv(value);
            std::string item;
            while (kv >> item) {
                size_t eq = item.find('=');
                std::string k = item.substr(0, eq), v = eq == std::string::npos ? "" : item.substr(eq + 1);
                if (k == "in" && parseInt(v, step.tokensIn)) continue;
                if (k == "out" && parseInt(v, step.tokensOut)) continue;
                if (k == "cost") {
                    try {
                        step.cost = std::stod(v);
                        if (step.cost >= 0) continue;
                    } catch (...) {
                    }
                }
                err("tokens takes in=N out=N cost=X");
                break;
            }
        } else {
            continue;  // ordinary task text containing a colon
        }
        s.steps.push_back(step);
    }
    return s;
}

}  // namespace agents
