// Registration: every route of the plugin in one screen.
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include "greetings.hpp"

class HelloModule : public atelier::Module {
public:
    void init() override {
        migrate(hello::Greetings::migrations());

        // Other modules (or this one) can rewrite the greeting before it is stored.
        hook("hello.greeting", 100, [](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            if (!o) return atelier::HookOutcome::keep();
            if (o->getValue<std::string>("name") == "nobody") return atelier::HookOutcome::veto("nobody may be greeted");
            o->set("message", o->getValue<std::string>("message") + "!");
            return atelier::HookOutcome::replace(o);
        });

        get("/api/hello", "Greet someone", [this](atelier::Request& req, atelier::Response& res) {
            std::string name = req.query("name", "world");
            if (name.size() > 100) throw atelier::badRequest("name is too long", "VALIDATION_ERROR", {{"name", "at most 100 characters"}});
            auto payload = atelier::makeObject();
            payload->set("name", name);
            payload->set("message", "Hello, " + name);
            auto decided = runHook("hello.greeting", payload);
            if (decided.vetoed) throw atelier::HttpError(422, "GREETING_REFUSED", decided.payload);
            auto greeting = hello::Greetings(db()).add(name, decided.json()->getValue<std::string>("message"));

            atelier::Event e;
            e.type = "hello.greeted";
            auto ev = atelier::makeObject();
            ev->set("name", name);
            e.payload = atelier::toJson(ev);
            publish(e);

            auto out = atelier::makeObject();
            out->set("id", greeting.id);
            out->set("message", greeting.message);
            out->set("created_at", greeting.createdAt);
            out->set("total", hello::Greetings(db()).count());
            res.json(out);
        });
    }
};

ATELIER_MODULE(HelloModule)
