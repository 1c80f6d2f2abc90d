#include <atelier/testing/fake_host.hpp>
#include <gtest/gtest.h>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

TEST(EventStats, CountsEventsByTypeAndProject) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    auto r0 = host.request("GET", "/api/plugins/event-stats");
    ASSERT_EQ(r0.status, 200);
    EXPECT_EQ(r0.json()->getObject("data")->getValue<int>("total"), 0);

    atelier::Event a;
    a.type = "ticket.created";
    a.projectId = "p1";
    host.publish(a);
    host.publish(a);
    atelier::Event b;
    b.type = "project.created";
    host.publish(b);

    auto all = host.request("GET", "/api/plugins/event-stats").json()->getObject("data");
    EXPECT_EQ(all->getValue<int>("total"), 3);
    auto types = all->getArray("types");
    ASSERT_EQ(types->size(), 2u);
    EXPECT_EQ(types->getObject(0)->getValue<std::string>("event_type"), "ticket.created");
    EXPECT_EQ(types->getObject(0)->getValue<int>("count"), 2);
    EXPECT_TRUE(types->getObject(1)->isNull("project_id"));

    auto p1 = host.request("GET", "/api/plugins/event-stats?project_id=p1").json()->getObject("data");
    EXPECT_EQ(p1->getValue<int>("total"), 2);

    auto bad = host.request("GET", "/api/plugins/event-stats?limit=abc");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "VALIDATION_ERROR");
}
