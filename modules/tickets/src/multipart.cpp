#include "multipart.hpp"

#include "common.hpp"

#include <cctype>

namespace tickets {

namespace {

std::string lower(std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}

std::string trim(std::string_view s) {
    size_t a = s.find_first_not_of(" \t");
    if (a == std::string_view::npos) return {};
    size_t b = s.find_last_not_of(" \t");
    return std::string(s.substr(a, b - a + 1));
}

// Parameter `key` of a header value such as `form-data; name="file"; filename="a.png"`.
std::optional<std::string> headerParam(std::string_view value, std::string_view key) {
    size_t i = 0;
    while (i < value.size()) {
        size_t semi = value.find(';', i);
        if (semi == std::string_view::npos) return std::nullopt;
        i = semi + 1;
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
        size_t eq = value.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string k = lower(trim(value.substr(i, eq - i)));
        size_t v = eq + 1;
        std::string out;
        if (v < value.size() && value[v] == '"') {
            ++v;
            while (v < value.size() && value[v] != '"') {
                if (value[v] == '\\' && v + 1 < value.size()) ++v;
                out.push_back(value[v++]);
            }
            if (v < value.size()) ++v;
        } else {
            size_t end = value.find(';', v);
            out = trim(value.substr(v, end == std::string_view::npos ? std::string_view::npos : end - v));
            v = end == std::string_view::npos ? value.size() : end;
        }
        if (k == key) return out;
        i = v;
    }
    return std::nullopt;
}

std::string percentDecode(std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size() + 0 && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(in[i]);
        }
    }
    return out;
}

}  // namespace

std::vector<MultipartPart> parseMultipart(std::string_view contentType, std::string_view body) {
    if (lower(contentType).rfind("multipart/form-data", 0) != 0)
        throw validation("Content-Type", "must be multipart/form-data");
    auto boundary = headerParam(contentType, "boundary");
    if (!boundary || boundary->empty() || boundary->size() > 200) throw validation("Content-Type", "needs a multipart boundary");
    std::string delim = "--" + *boundary;
    std::vector<MultipartPart> parts;
    size_t pos = body.find(delim);
    if (pos == std::string_view::npos) throw validation("body", "is not a multipart body");
    while (true) {
        pos += delim.size();
        if (body.substr(pos, 2) == "--") break;  // closing delimiter
        if (body.substr(pos, 2) != "\r\n") throw validation("body", "is a malformed multipart body");
        pos += 2;
        size_t headerEnd = body.find("\r\n\r\n", pos);
        if (headerEnd == std::string_view::npos) throw validation("body", "is a malformed multipart body");
        MultipartPart part;
        std::string_view headers = body.substr(pos, headerEnd - pos);
        size_t h = 0;
        while (h <= headers.size()) {
            size_t e = headers.find("\r\n", h);
            if (e == std::string_view::npos) e = headers.size();
            auto line = headers.substr(h, e - h);
            auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                auto name = lower(trim(line.substr(0, colon)));
                auto value = trim(line.substr(colon + 1));
                if (name == "content-disposition") {
                    part.name = headerParam(value, "name").value_or("");
                    if (auto fnStar = headerParam(value, "filename*")) {
                        auto q = fnStar->find("''");
                        part.filename = percentDecode(q == std::string::npos ? *fnStar : fnStar->substr(q + 2));
                    } else {
                        part.filename = headerParam(value, "filename");
                    }
                } else if (name == "content-type") {
                    part.contentType = lower(value);
                    auto semi = part.contentType.find(';');
                    if (semi != std::string::npos) part.contentType = trim(part.contentType.substr(0, semi));
                }
            }
            h = e + 2;
        }
        size_t dataStart = headerEnd + 4;
        size_t next = body.find("\r\n" + delim, dataStart);
        if (next == std::string_view::npos) throw validation("body", "is a truncated multipart body");
        part.data = std::string(body.substr(dataStart, next - dataStart));
        parts.push_back(std::move(part));
        pos = next + 2;
        if (parts.size() > 32) throw validation("body", "has too many parts");
    }
    return parts;
}

Upload parseUpload(std::string_view contentType, std::string_view body, bool requireUploader) {
    auto parts = parseMultipart(contentType, body);
    Upload up;
    bool haveFile = false;
    for (auto& p : parts) {
        if (p.filename && !haveFile) {
            up.filename = safeFilename(*p.filename);
            up.contentType = p.contentType;
            up.data = std::move(p.data);
            haveFile = true;
        } else if (p.filename) {
            throw validation("file", "only one file per request");
        } else if (p.name == "uploaded_by_id") {
            std::string v = trim(p.data);
            if (!v.empty()) up.uploadedById = v;
        }
    }
    if (!haveFile) throw validation("file", "is required");
    if (requireUploader && !up.uploadedById) throw validation("uploaded_by_id", "is required");
    return up;
}

std::string safeFilename(std::string_view raw) {
    std::string s(raw);
    auto slash = s.find_last_of("/\\");
    if (slash != std::string::npos) s = s.substr(slash + 1);
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == ':' || c == '|' || c == '?' || c == '*') continue;
        out.push_back(static_cast<char>(c));
    }
    while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(out.begin());
    while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
    if (out.size() > 200) out = out.substr(out.size() - 200);
    if (out.empty()) out = "file";
    return out;
}

std::string contentDisposition(std::string_view kind, std::string_view filename) {
    std::string ascii;
    for (unsigned char c : filename) ascii.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? static_cast<char>(c) : '_');
    return std::string(kind) + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + urlEncode(filename);
}

}  // namespace tickets
