// web: serves the single-page UI built from modules/web/ui at `/`. Hashed assets under
// /assets/ are cacheable forever, index.html is revalidated every time, and each file goes out
// in the precompressed encoding the client accepts. The UI routes on the URL fragment, so the
// module only claims `/`, `/assets/*` and the top-level files of the build: every other path
// keeps the host's 404/405 answers.
#include <dlfcn.h>

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <cstdlib>

#include "asset_store.hpp"

namespace atelier::web {

namespace {

const char* kNotBuiltPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atelier</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px}@media(prefers-color-scheme:dark){body{background:#15171a;color:#ddd}code{background:#2a2d31}}</style>
</head><body><h1>Atelier is running</h1>
<p>The web UI has not been built. It needs Node.js and npm (Debian: <code>apt-get install nodejs npm</code>).
<code>scripts/run.sh</code> builds it with the server; to build only the UI:</p>
<pre><code>cd modules/web/ui &amp;&amp; npm ci &amp;&amp; npm run build -- --outDir &lt;modules dir&gt;/web-ui</code></pre>
<p>or point the module at a build with <code>modules.config.web.root</code> or <code>ATELIER_WEB_ROOT</code>.
The API is at <a href="/api/health">/api/health</a>; every route is listed in <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>
)";

// The build sits beside the module: <modules dir>/web-ui.
std::filesystem::path besideModule() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&besideModule), &info) == 0 || !info.dli_fname) return {};
    return std::filesystem::path(info.dli_fname).parent_path() / "web-ui";
}

}  // namespace

class WebModule : public Module {
public:
    void init() override {
        auto cfg = host().config();
        std::filesystem::path root;
        if (cfg->has("root") && cfg->get("root").isString())
            root = cfg->getValue<std::string>("root");
        else if (const char* env = std::getenv("ATELIER_WEB_ROOT"); env && *env)
            root = env;
        else
            root = besideModule();
        store_ = AssetStore::load(root);
        if (!store_.built()) {
            host().info("web: no UI build in " + root.string() + "; / explains how to build it");
            get("/", "Web UI (not built: how to build it)", [](Request&, Response& res) {
                res.header("Cache-Control", "no-cache").text(kNotBuiltPage, 200, "text/html; charset=utf-8");
            });
            return;
        }
        auto serve = [this](Request& rq, Response& rs) { serveAsset(rq, rs); };
        get("/", "Web UI", serve);
        get("/assets/*", "Web UI assets (content-hashed, immutable)", serve);
        for (auto& name : store_.topLevelFiles()) get("/" + name, "Web UI file", serve);
    }

private:
    void serveAsset(Request& req, Response& res) {
        const Asset* asset = store_.find(req.path());
        if (!asset) throw HttpError(404, "NOT_FOUND", "No route for GET " + std::string(req.path().substr(0, 200)));
        auto sel = AssetStore::select(*asset, req.header("accept-encoding"));
        res.header("ETag", sel.etag);
        res.header("Vary", "Accept-Encoding");
        res.header("Cache-Control", asset->immutable ? "public, max-age=31536000, immutable" : "no-cache");
        res.header("X-Content-Type-Options", "nosniff");
        if (asset->contentType.rfind("text/html", 0) == 0) {
            res.header(
                "Content-Security-Policy",
                "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
            res.header("Referrer-Policy", "no-referrer");
        }
        if (AssetStore::notModified(req.header("if-none-match"), sel.etag)) {
            res.status(304);
            return;
        }
        if (sel.encoding == Encoding::Brotli) res.header("Content-Encoding", "br");
        if (sel.encoding == Encoding::Gzip) res.header("Content-Encoding", "gzip");
        res.status(200).header("Content-Type", asset->contentType).body(sel.body);
    }

    AssetStore store_;
};

}  // namespace atelier::web

ATELIER_MODULE(atelier::web::WebModule)
