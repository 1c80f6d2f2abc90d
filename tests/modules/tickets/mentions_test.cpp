// The mention parser and the FTS query sanitiser as pure functions.
#include "mentions.hpp"
#include "multipart.hpp"
#include "search.hpp"

#include <gtest/gtest.h>

using tickets::parseMentions;

TEST(Mentions, ProfilesAndTickets) {
    auto m = parseMentions("hi @[Ada Lovelace](p-1), see #12 and #3.");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].type, "profile");
    EXPECT_EQ(m[0].profileId, "p-1");
    EXPECT_EQ(m[0].text, "@[Ada Lovelace](p-1)");
    EXPECT_EQ(m[1].ticketNumber, 12);
    EXPECT_EQ(m[2].ticketNumber, 3);
}

TEST(Mentions, EdgeCases) {
    EXPECT_TRUE(parseMentions("C#1 abc#2 page/#3 &#4; #12abc #0 ## #").empty());
    EXPECT_TRUE(parseMentions("`#1 @[A](b)` and ```\n#2\n@[B](c)\n```").empty());
    EXPECT_EQ(parseMentions("``a ` #5 b`` #6").size(), 1u);
    EXPECT_EQ(parseMentions("``a ` #5 b`` #6")[0].ticketNumber, 6);
    EXPECT_EQ(parseMentions("unclosed ` #7").size(), 1u);
    EXPECT_EQ(parseMentions("#8 #8 @[X](y) @[Z](y)").size(), 2u);  // each target once
    EXPECT_TRUE(parseMentions("@[](x) @[A]() @[A] (x) @[A\nB](x)").empty());
    EXPECT_EQ(parseMentions("(#9)").size(), 1u);
    EXPECT_EQ(parseMentions("#10\n").size(), 1u);
}

TEST(Search, QuerySanitising) {
    EXPECT_EQ(tickets::buildFtsQuery("running fast"), "\"running\" \"fast\"*");
    EXPECT_EQ(tickets::buildFtsQuery("a OR \"b\" NEAR(c)"), "\"a\" \"OR\" \"b\" \"NEAR\" \"c\"");
    EXPECT_EQ(tickets::buildFtsQuery("\"*()^{}:-"), "");
    EXPECT_THROW(tickets::buildFtsQuery(std::string(201, 'x')), tickets::DomainError);
    EXPECT_TRUE(tickets::isNumberQuery("#42"));
    EXPECT_FALSE(tickets::isNumberQuery("42a"));
}

TEST(Multipart, ParsesAndSanitises) {
    std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"uploaded_by_id\"\r\n\r\nuser-1\r\n"
                       "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/pa\\\"ss.png\"\r\n"
                       "Content-Type: image/png\r\n\r\nDATA\r\nMORE\r\n--XyZ--\r\n";
    auto up = tickets::parseUpload("multipart/form-data; boundary=XyZ", body, true);
    EXPECT_EQ(up.data, "DATA\r\nMORE");
    EXPECT_EQ(*up.uploadedById, "user-1");
    EXPECT_EQ(up.contentType, "image/png");
    EXPECT_EQ(up.filename, "pass.png");
    EXPECT_THROW(tickets::parseUpload("application/json", body, true), tickets::DomainError);
    EXPECT_THROW(tickets::parseUpload("multipart/form-data; boundary=XyZ", "--XyZ\r\ngarbage", true), tickets::DomainError);
    EXPECT_EQ(tickets::safeFilename(".."), "file");
    EXPECT_EQ(tickets::safeFilename("C:\\x\\..\\evil.txt"), "evil.txt");
    EXPECT_EQ(tickets::contentDisposition("attachment", "ré\"sumé.png"),
              "attachment; filename=\"r___sum__.png\"; filename*=UTF-8''r%C3%A9%22sum%C3%A9.png");
}
