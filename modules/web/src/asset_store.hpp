// The built web UI held in memory: every file of the build output with its precompressed
// variants, chosen per request by Accept-Encoding. Knows nothing of HTTP beyond header values.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atelier::web {

enum class Encoding { Identity, Gzip, Brotli };

struct Asset {
    std::string contentType;
    std::string identity;
    std::string gzip;        // empty when the build wrote no .gz beside the file
    std::string brotli;      // empty when the build wrote no .br beside the file
    std::string etag;        // of the identity bytes; variants add a suffix
    bool immutable = false;  // content-hashed name: cacheable forever
};

struct Selection {
    const Asset* asset = nullptr;
    Encoding encoding = Encoding::Identity;
    std::string_view body;
    std::string etag;
};

class AssetStore {
public:
    // Loads `root` (regular files only, symlinks are not followed). An unreadable or missing
    // root, or one without index.html, gives a store that is not built().
    static AssetStore load(const std::filesystem::path& root);

    bool built() const { return assets_.count("index.html") > 0; }
    size_t size() const { return assets_.size(); }
    const std::filesystem::path& root() const { return root_; }
    // Names of the files at the top of the build (index.html, favicon.svg, …).
    std::vector<std::string> topLevelFiles() const;

    // The file of the build at a URL path ("/" is index.html), or nothing. The UI routes on the
    // URL fragment, so no other path needs to answer with the application.
    const Asset* find(std::string_view urlPath) const;

    static Selection select(const Asset& asset, std::string_view acceptEncoding);
    static bool notModified(std::string_view ifNoneMatch, std::string_view etag);
    static std::string contentTypeFor(std::string_view fileName);

private:
    std::filesystem::path root_;
    std::map<std::string, Asset, std::less<>> assets_;
};

}  // namespace atelier::web
