// Control frames of the terminal WebSocket protocol and the text helpers they need.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace atelier::terminal {

// `s` as a JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD and a sequence
// cut at the start of a ring buffer is skipped, so the frame is always valid UTF-8.
std::string jsonString(std::string_view s);

// {"type":"restore","payload":"..."}
std::string restoreFrame(std::string_view scrollback);
// {"type":"exit","exitCode":N}
std::string exitFrame(int exitCode);

struct ResizeRequest {
    int cols = 0;
    int rows = 0;
    bool valid = false;  // false: it was a resize frame but the size is out of 1..1000
};
// A text frame `{"type":"resize","cols":N,"rows":N}`; nullopt for anything else (input).
std::optional<ResizeRequest> parseResize(std::string_view frame);

// Origin allow-list check: an absent Origin (non-browser client) and loopback origins
// (localhost, 127.0.0.1, [::1], any port) are allowed, plus exact entries of `extra`.
bool originAllowed(const std::string& origin, const std::string& extraCsv);

}  // namespace atelier::terminal
