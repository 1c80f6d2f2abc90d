// API flavors through the SDK and the fake host: which route answers which flavor, the error
// shape of each flavor, route conflicts, and the details_json contract of response_set_error.
#include <gtest/gtest.h>

#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>

namespace {

using atelier::flavors;
using atelier::Request;
using atelier::Response;

class FlavoredModule : public atelier::Module {
public:
    void init() override {
        get("/api/things", "Things", [](Request&, Response& res) { res.json(atelier::makeArray()); });
        get("/api/things", "Things in an envelope", flavors(ATELIER_FLAVOR_KANBAN), [](Request&, Response& res) {
            auto o = atelier::makeObject();
            o->set("data", atelier::makeArray());
            res.json(o);
        });
        // Only Kombuse clients see this one.
        get("/api/kombuse-only", "Kombuse only", flavors(ATELIER_FLAVOR_KOMBUSE),
            [](Request& req, Response& res) { res.text(std::string(atelier::flavorName(req.flavor()))); });
        // A parameter route for every flavor and a static one for two: the static one is more
        // specific, so it wins for those two and the parameter route serves the rest.
        get("/api/items/:id", "Item", [](Request& req, Response& res) { res.text("param " + req.param("id")); });
        get("/api/items/special", "Special item", flavors(ATELIER_FLAVOR_OPENKIT, ATELIER_FLAVOR_ABBADO),
            [](Request&, Response& res) { res.text("special"); });
        post("/api/things", "Create a thing", [](Request& req, Response&) {
            auto body = req.json();
            if (!body->has("name"))
                throw atelier::badRequest("name is required", "VALIDATION_ERROR", {{"name", "required"}});
            auto e = atelier::HttpError(409, "ALREADY_CLAIMED", "Thing is claimed");
            e.extra = atelier::makeObject();
            e.extra->set("ticket", body);
            throw e;
        });
        get("/api/missing", "Always 404", [](Request&, Response&) { throw atelier::notFound("No such thing"); });
    }
};

const atelier_module_v1* flavoredTable() {
    static const atelier_module_v1 t = [] {
        auto m = atelier::initStruct<atelier_module_v1>();
        m.id = "flavored";
        m.version = "1.0.0";
        m.description = "test";
        m.init = &atelier::ModuleGlue::init<FlavoredModule>;
        m.start = &atelier::ModuleGlue::start;
        m.stop = &atelier::ModuleGlue::stop;
        m.destroy = &atelier::ModuleGlue::destroy;
        return m;
    }();
    return &t;
}

std::map<std::string, std::string> as(const char* flavor) { return {{"X-Atelier-Flavor", flavor}}; }

class Flavors : public ::testing::Test {
protected:
    void SetUp() override { host.load(flavoredTable()); }
    atelier::testing::FakeHost host;
};

TEST_F(Flavors, TheFlavorsRouteWinsOverTheDefault) {
    auto plain = host.request("GET", "/api/things");
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(plain.body, "[]");
    auto kanban = host.request("GET", "/api/things", "", as("kanban"));
    ASSERT_EQ(kanban.status, 200);
    EXPECT_EQ(kanban.body, R"({"data":[]})");
    // Every other flavor falls back to the default route.
    for (const char* f : {"atelier", "kombuse", "openkit", "abbado", "krowforge"})
        EXPECT_EQ(host.request("GET", "/api/things", "", as(f)).body, "[]") << f;
    // Names are case-insensitive.
    EXPECT_EQ(host.request("GET", "/api/things", "", as("KanBan")).body, R"({"data":[]})");
}

TEST_F(Flavors, ARouteForOneFlavorIsInvisibleToOthers) {
    auto k = host.request("GET", "/api/kombuse-only", "", as("kombuse"));
    EXPECT_EQ(k.status, 200);
    EXPECT_EQ(k.body, "kombuse");
    EXPECT_EQ(host.request("GET", "/api/kombuse-only").status, 404);
    EXPECT_EQ(host.request("GET", "/api/kombuse-only", "", as("kanban")).status, 404);
}

TEST_F(Flavors, SpecificityStillComesFirst) {
    EXPECT_EQ(host.request("GET", "/api/items/special", "", as("openkit")).body, "special");
    EXPECT_EQ(host.request("GET", "/api/items/special", "", as("abbado")).body, "special");
    EXPECT_EQ(host.request("GET", "/api/items/special").body, "param special");
    EXPECT_EQ(host.request("GET", "/api/items/7", "", as("openkit")).body, "param 7");
}

TEST_F(Flavors, UnknownFlavorHeaderIsA400) {
    auto r = host.request("GET", "/api/things", "", as("jira"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "UNKNOWN_FLAVOR");
}

TEST_F(Flavors, ErrorBodiesFollowTheFlavor) {
    // Default and OpenKit and the boards product: the uniform shape.
    for (const char* f : {"atelier", "openkit", "kanban"}) {
        auto r = host.request("GET", "/api/missing", "", as(f));
        ASSERT_EQ(r.status, 404) << f;
        ASSERT_TRUE(r.json()) << f;
        EXPECT_FALSE(r.json()->getValue<bool>("success"));
        EXPECT_EQ(r.json()->getValue<std::string>("error"), "No such thing");
        EXPECT_EQ(r.json()->getValue<std::string>("code"), "NOT_FOUND");
        EXPECT_EQ(r.header("content-type"), "application/json");
    }
    // Kombuse: {"error": string}, nothing else.
    auto k = host.request("GET", "/api/missing", "", as("kombuse"));
    EXPECT_EQ(k.status, 404);
    EXPECT_EQ(k.body, R"({"error":"No such thing"})");
    // KrowForge: {"error": {code, message}}.
    auto kf = host.request("GET", "/api/missing", "", as("krowforge"));
    EXPECT_EQ(kf.status, 404);
    EXPECT_EQ(kf.body, R"({"error":{"code":"NOT_FOUND","message":"No such thing"}})");
    // Abbado: the message as text.
    auto a = host.request("GET", "/api/missing", "", as("abbado"));
    EXPECT_EQ(a.status, 404);
    EXPECT_EQ(a.body, "No such thing");
    EXPECT_EQ(a.header("content-type"), "text/plain; charset=utf-8");
    // The host's own 404 and 405 follow the flavor too.
    EXPECT_EQ(host.request("GET", "/api/nothing-here", "", as("kombuse")).body, R"({"error":"Not found"})");
    auto na = host.request("DELETE", "/api/things", "", as("krowforge"));
    EXPECT_EQ(na.status, 405);
    EXPECT_EQ(na.json()->getObject("error")->getValue<std::string>("code"), "METHOD_NOT_ALLOWED");
}

TEST_F(Flavors, ValidationDetailsPerFlavor) {
    auto u = host.request("POST", "/api/things", "{}");
    ASSERT_EQ(u.status, 400);
    auto details = u.json()->getArray("details");
    ASSERT_TRUE(details);
    ASSERT_EQ(details->size(), 1u);
    EXPECT_EQ(details->getObject(0)->getValue<std::string>("field"), "name");
    EXPECT_EQ(details->getObject(0)->getValue<std::string>("message"), "required");

    // Kombuse lists validation failures as Zod issues under "error".
    auto k = host.request("POST", "/api/things", "{}", as("kombuse"));
    ASSERT_EQ(k.status, 400);
    auto issues = k.json()->getArray("error");
    ASSERT_TRUE(issues) << k.body;
    ASSERT_EQ(issues->size(), 1u);
    auto issue = issues->getObject(0);
    EXPECT_EQ(issue->getArray("path")->getElement<std::string>(0), "name");
    EXPECT_EQ(issue->getValue<std::string>("message"), "required");
    EXPECT_TRUE(issue->has("code"));

    auto kf = host.request("POST", "/api/things", "{}", as("krowforge"));
    auto err = kf.json()->getObject("error");
    EXPECT_EQ(err->getValue<std::string>("code"), "VALIDATION_ERROR");
    EXPECT_EQ(err->getArray("details")->getObject(0)->getValue<std::string>("field"), "name");
}

TEST_F(Flavors, ExtraFieldsTravelInEveryJsonShape) {
    // A Kombuse claim conflict: {"error": string, "ticket": Ticket}.
    auto k = host.request("POST", "/api/things", R"({"name":"t1"})", as("kombuse"));
    ASSERT_EQ(k.status, 409);
    EXPECT_EQ(k.json()->getValue<std::string>("error"), "Thing is claimed");
    EXPECT_EQ(k.json()->getObject("ticket")->getValue<std::string>("name"), "t1");
    auto u = host.request("POST", "/api/things", R"({"name":"t1"})");
    EXPECT_EQ(u.json()->getValue<std::string>("code"), "ALREADY_CLAIMED");
    EXPECT_EQ(u.json()->getObject("ticket")->getValue<std::string>("name"), "t1");
}

TEST(FlavorRoutes, SameMethodPatternAndFlavorConflict) {
    atelier::testing::FakeHost host;
    atelier_module_ctx ctx{&host, "m", "", "{}"};
    auto fn = [](void*, const atelier_request*, atelier_response* res) { res->status = 204; };
    auto desc = atelier::initStruct<atelier_route_desc>();
    desc.method = atelier::str("GET");
    desc.pattern = atelier::str("/api/x");
    desc.handler = fn;
    EXPECT_EQ(host.api()->route_add(&ctx, &desc), ATELIER_OK);
    EXPECT_EQ(host.api()->route_add(&ctx, &desc), ATELIER_ERR_CONFLICT);  // two defaults
    desc.flavors = ATELIER_FLAVOR_BIT(ATELIER_FLAVOR_KANBAN) | ATELIER_FLAVOR_BIT(ATELIER_FLAVOR_ABBADO);
    EXPECT_EQ(host.api()->route_add(&ctx, &desc), ATELIER_OK);
    desc.flavors = ATELIER_FLAVOR_BIT(ATELIER_FLAVOR_ABBADO);
    EXPECT_EQ(host.api()->route_add(&ctx, &desc), ATELIER_ERR_CONFLICT);  // overlaps on abbado
    desc.flavors = ATELIER_FLAVOR_BIT(ATELIER_FLAVOR_KOMBUSE);
    EXPECT_EQ(host.api()->route_add(&ctx, &desc), ATELIER_OK);
    desc.handler = nullptr;
    desc.flavors = ATELIER_FLAVOR_BIT(ATELIER_FLAVOR_OPENKIT);
    EXPECT_EQ(host.api()->route_add(&ctx, &desc), ATELIER_ERR_INVALID);
}

TEST(FlavorErrors, DetailsJsonForms) {
    std::vector<atelier::ErrorDetail> d;
    atelier::JsonObject extra;
    EXPECT_TRUE(atelier::parseErrorDetails("", d, extra));
    EXPECT_TRUE(d.empty());
    EXPECT_FALSE(extra);
    EXPECT_TRUE(atelier::parseErrorDetails(R"([{"field":"a","message":"b"}])", d, extra));
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].field, "a");
    EXPECT_TRUE(atelier::parseErrorDetails(R"({"details":[{"field":"x","message":"y"}],"ticket":{"id":1}})", d, extra));
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].field, "x");
    ASSERT_TRUE(extra);
    EXPECT_TRUE(extra->has("ticket"));
    EXPECT_FALSE(extra->has("details"));
    for (const char* bad : {"not json", "42", R"("text")", R"([1,2])", R"({"details":"no"})"})
        EXPECT_FALSE(atelier::parseErrorDetails(bad, d, extra)) << bad;
    // The round trip the SDK relies on.
    auto extraIn = atelier::makeObject();
    extraIn->set("ticket", 7);
    std::string json = atelier::errorDetailsJson({{"f", "m"}}, extraIn);
    EXPECT_TRUE(atelier::parseErrorDetails(json, d, extra));
    EXPECT_EQ(d.size(), 1u);
    EXPECT_EQ(extra->getValue<int>("ticket"), 7);
    EXPECT_EQ(atelier::errorDetailsJson({}), "");
}

TEST(FlavorErrors, StatusOutsideTheErrorRangeBecomes500AndCodeIsDerived) {
    atelier_response res;
    res.flavor = ATELIER_FLAVOR_ATELIER;
    atelier::testing::FakeHost host;
    host.api()->response_set_error(&res, 200, atelier::str(""), atelier::str("boom"), atelier::str(""));
    EXPECT_EQ(res.status, 500);
    EXPECT_NE(res.body.find(R"("code":"INTERNAL_ERROR")"), std::string::npos) << res.body;
    atelier_response r2;
    host.api()->response_set_error(&r2, 404, atelier::str(""), atelier::str("gone"), atelier::str(""));
    EXPECT_NE(r2.body.find(R"("code":"NOT_FOUND")"), std::string::npos) << r2.body;
}

}  // namespace
