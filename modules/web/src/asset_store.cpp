#include "asset_store.hpp"

#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace atelier::web {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string fnv1aHex(std::string_view data) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ull;
    }
    static const char* digits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = digits[h & 0xf];
    return out;
}

bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Whether Accept-Encoding lists `coding` (or "*") with a non-zero q.
bool accepts(std::string_view header, std::string_view coding) {
    bool star = false;
    size_t pos = 0;
    while (pos <= header.size()) {
        size_t comma = header.find(',', pos);
        std::string_view item =
            header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
        std::string_view name = trim(item.substr(0, item.find(';')));
        bool zero = false;
        if (auto semi = item.find(';'); semi != std::string_view::npos) {
            std::string_view param = trim(item.substr(semi + 1));
            if (param.rfind("q=", 0) == 0) {
                std::string_view q = trim(param.substr(2));
                zero = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
            }
        }
        if (name == coding) return !zero;
        if (name == "*") star = !zero;
    }
    return star;
}

}  // namespace

std::string AssetStore::contentTypeFor(std::string_view name) {
    static const std::vector<std::pair<std::string_view, std::string_view>> types{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    for (auto& [ext, type] : types)
        if (endsWith(name, ext)) return std::string(type);
    return "application/octet-stream";
}

AssetStore AssetStore::load(const fs::path& root) {
    AssetStore store;
    store.root_ = root;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return store;
    std::map<std::string, fs::path> files;
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
        files.emplace(fs::relative(it->path(), root, ec).generic_string(), it->path());
    }
    for (auto& [rel, path] : files) {
        if (endsWith(rel, ".gz") || endsWith(rel, ".br")) continue;
        auto content = readFile(path);
        if (!content) continue;
        Asset a;
        a.contentType = contentTypeFor(rel);
        a.etag = fnv1aHex(*content);
        a.identity = std::move(*content);
        if (files.count(rel + ".gz"))
            if (auto gz = readFile(files[rel + ".gz"])) a.gzip = std::move(*gz);
        if (files.count(rel + ".br"))
            if (auto br = readFile(files[rel + ".br"])) a.brotli = std::move(*br);
        a.immutable = rel.rfind("assets/", 0) == 0;
        store.assets_.emplace(rel, std::move(a));
    }
    return store;
}

std::vector<std::string> AssetStore::topLevelFiles() const {
    std::vector<std::string> out;
    for (auto& [rel, asset] : assets_)
        if (rel.find('/') == std::string::npos) out.push_back(rel);
    return out;
}

const Asset* AssetStore::find(std::string_view urlPath) const {
    while (!urlPath.empty() && urlPath.front() == '/') urlPath.remove_prefix(1);
    if (urlPath.empty()) urlPath = "index.html";
    auto it = assets_.find(urlPath);
    return it == assets_.end() ? nullptr : &it->second;
}

Selection AssetStore::select(const Asset& asset, std::string_view acceptEncoding) {
    Selection s;
    s.asset = &asset;
    if (!asset.brotli.empty() && accepts(acceptEncoding, "br")) {
        s.encoding = Encoding::Brotli;
        s.body = asset.brotli;
        s.etag = "\"" + asset.etag + "-br\"";
    } else if (!asset.gzip.empty() && accepts(acceptEncoding, "gzip")) {
        s.encoding = Encoding::Gzip;
        s.body = asset.gzip;
        s.etag = "\"" + asset.etag + "-gz\"";
    } else {
        s.body = asset.identity;
        s.etag = "\"" + asset.etag + "\"";
    }
    return s;
}

bool AssetStore::notModified(std::string_view ifNoneMatch, std::string_view etag) {
    size_t pos = 0;
    while (pos <= ifNoneMatch.size()) {
        size_t comma = ifNoneMatch.find(',', pos);
        std::string_view tag =
            trim(ifNoneMatch.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
        pos = comma == std::string_view::npos ? ifNoneMatch.size() + 1 : comma + 1;
        if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);
        if (tag == "*" || (!tag.empty() && tag == etag)) return true;
    }
    return false;
}

}  // namespace atelier::web
