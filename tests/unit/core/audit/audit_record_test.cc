#include "audit_record.hpp"

#include <gtest/gtest.h>

namespace rustyolo::audit {
namespace {

namespace json = boost::json;

json::object packet(json::object details) { return make_record("network", "block", "packet", std::move(details)); }

TEST(AuditRecord, MadeRecordsPassTheWireCheck) {
    json::object r = make_record("dns", "block", "query", json::object{{"name", "x.test"}, {"qtype", "TXT"}});
    EXPECT_EQ(check_wire_record(r), std::nullopt);
    const std::string time(r.at("time").as_string());
    ASSERT_EQ(time.size(), 24u) << time;
    EXPECT_EQ(time[10], 'T');
    EXPECT_EQ(time.back(), 'Z');
}

TEST(AuditRecord, WireCheckRefusesEveryMalformedShape) {
    const json::object good = make_record("syscall", "block", "denied", json::object{});
    EXPECT_TRUE(check_wire_record(json::value("text")));
    for (const char *field : {"time", "layer", "verdict", "event", "details"}) {
        json::object r = good;
        r.erase(field);
        EXPECT_TRUE(check_wire_record(r)) << "without " << field;
    }
    auto with = [&](const char *field, json::value v) {
        json::object r = good;
        r[field] = std::move(v);
        return check_wire_record(r);
    };
    EXPECT_TRUE(with("layer", "kernel"));
    EXPECT_TRUE(with("verdict", "maybe"));
    EXPECT_TRUE(with("event", "Denied"));
    EXPECT_TRUE(with("event", ""));
    EXPECT_TRUE(with("event", "a\nb"));
    EXPECT_TRUE(with("details", json::array{}));
    EXPECT_TRUE(with("time", "yesterday"));
    EXPECT_TRUE(with("session", "forged"));  // the host stamps the session; a sixth field is refused
    EXPECT_TRUE(with("seq", 1));
}

TEST(AuditRecord, SummaryKeys) {
    EXPECT_EQ(summary_key(packet({{"destination", "10.1.2.3"}, {"port", 22}, {"protocol", "tcp"}})), "10.1.2.3:22/tcp");
    EXPECT_EQ(summary_key(packet({{"destination", "10.1.2.3"}, {"port", 443}, {"protocol", "tcp"}, {"name", "evil.test"}})),
              "evil.test:443/tcp");
    EXPECT_EQ(summary_key(packet({{"destination", "fd00::1"}, {"port", nullptr}, {"protocol", "icmpv6"}, {"name", nullptr}})),
              "fd00::1/icmpv6");
    EXPECT_EQ(summary_key(make_record("network", "block", "address", {{"destination", "169.254.169.254"}, {"name", "meta.test"}})),
              "address meta.test");
    EXPECT_EQ(summary_key(make_record("dns", "block", "query", {{"name", "x.test"}, {"qtype", "TXT"}})), "dns TXT x.test");
    EXPECT_EQ(summary_key(make_record("syscall", "block", "denied", {{"syscall", "mount"}})), "syscall mount");
    EXPECT_EQ(summary_key(make_record("mount", "block", "refused", {{"source", "~/.ssh"}})), "mount ~/.ssh");
    EXPECT_EQ(summary_key(make_record("resource", "block", "oom_kill", {})), "resource oom_kill");
    EXPECT_EQ(summary_key(make_record("lifecycle", "info", "exit", {})), "lifecycle exit");
    // Names come from the container: control bytes are escaped.
    EXPECT_EQ(summary_key(make_record("dns", "block", "query", {{"name", "a\x1b[2Jb"}, {"qtype", "A"}})),
              "dns A a\\x1b[2Jb");
}

TEST(AuditRecord, Levels) {
    EXPECT_FALSE(level_admits("none", "block"));
    EXPECT_FALSE(level_admits("none", "info"));
    EXPECT_TRUE(level_admits("basic", "block"));
    EXPECT_TRUE(level_admits("basic", "info"));
    EXPECT_FALSE(level_admits("basic", "allow"));
    EXPECT_TRUE(level_admits("verbose", "allow"));
}

}  // namespace
}  // namespace rustyolo::audit
