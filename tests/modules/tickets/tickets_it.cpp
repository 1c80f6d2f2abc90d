// The tickets module over the real host and real sockets (with the projects module).
#include "test_server.hpp"

#include <gtest/gtest.h>

using atelier::test::TestServer;

TEST(TicketsIt, Placeholder) { SUCCEED(); }
