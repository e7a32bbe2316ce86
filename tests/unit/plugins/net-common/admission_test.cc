#include "plugins/net-common/admission.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo::net {
namespace {

AdmissionPolicy policy(bool allow_lan = false) {
    AdmissionPolicy p;
    p.allow_lan = allow_lan;
    p.ports = {80, 443};
    return p;
}

TEST(NetAdmission, NeverAllowedAddressesAreRefusedWhateverTheName) {
    std::vector<AnswerAddress> addresses = {
        {false, "93.184.216.34", 60, {443}}, {false, "127.0.0.1", 60, {443}},    {false, "169.254.169.254", 60, {80}},
        {false, "0.0.0.0", 60, {443}},       {false, "224.0.0.1", 60, {443}},    {false, "255.255.255.255", 60, {443}},
        {false, "10.1.2.3", 60, {443}},      {false, "192.168.1.1", 60, {443}},  {false, "172.16.0.1", 60, {443}},
        {false, "100.64.0.1", 60, {443}},    {true, "::1", 60, {443}},           {true, "fe80::1", 60, {443}},
        {true, "fd00::1", 60, {443}},        {true, "::ffff:127.0.0.1", 60, {443}}, {true, "::ffff:169.254.169.254", 60, {80}},
        {true, "2606:4700::1111", 60, {443}},
    };
    Admission closed = admit(addresses, policy(false));
    ASSERT_EQ(closed.accepted.size(), 2u);
    EXPECT_EQ(closed.accepted[0].address, "93.184.216.34");
    EXPECT_EQ(closed.accepted[1].address, "2606:4700::1111");
    EXPECT_EQ(closed.refused.size(), addresses.size() - 2);

    Admission lan = admit(addresses, policy(true));
    std::vector<std::string> accepted;
    for (const auto &a : lan.accepted)
        accepted.push_back(a.address);
    EXPECT_EQ(accepted, (std::vector<std::string>{"93.184.216.34", "10.1.2.3", "192.168.1.1", "172.16.0.1",
                                                  "100.64.0.1", "fd00::1", "2606:4700::1111"}));
}

TEST(NetAdmission, PortsNoEntryOpensAreRefused) {
    Admission admission = admit({{false, "93.184.216.34", 60, {22}}, {false, "93.184.216.35", 60, {80, 22}}}, policy());
    EXPECT_TRUE(admission.accepted.empty());
    ASSERT_EQ(admission.refused.size(), 2u);
    EXPECT_NE(admission.refused[0].reason.find("port 22"), std::string::npos);
}

TEST(NetAdmission, AnAnswerForANameThePolicyNoLongerAllowsIsRefused) {
    // What a firewall does with a batch the DNS filter fed: the name is judged again by the
    // policy in force (a live deny may have taken it back), port by port.
    auto allows = [](const std::string &name, std::uint16_t port) {
        return name == "kept.example.com" || (name == "narrowed.example.com" && port == 443);
    };
    std::vector<AnswerAddress> addresses = {{false, "93.184.216.34", 60, {80, 443}},
                                            {true, "2606:4700::1111", 60, {443}}};
    Admission kept = admit(addresses, policy());
    refuse_unallowed_name(kept, "kept.example.com", allows);
    EXPECT_EQ(kept.accepted.size(), 2u);
    EXPECT_TRUE(kept.refused.empty());

    Admission narrowed = admit(addresses, policy());
    refuse_unallowed_name(narrowed, "narrowed.example.com", allows);
    ASSERT_EQ(narrowed.accepted.size(), 2u);
    EXPECT_EQ(narrowed.accepted[0].ports, (std::vector<std::uint16_t>{443}));

    Admission denied = admit(addresses, policy());
    refuse_unallowed_name(denied, "denied.example.com", allows);
    EXPECT_TRUE(denied.accepted.empty());
    ASSERT_EQ(denied.refused.size(), 2u);
    EXPECT_EQ(denied.refused[0].address.address, "93.184.216.34");
    EXPECT_NE(denied.refused[0].reason.find("denied.example.com"), std::string::npos);
}

TEST(NetAdmission, TimeoutsAreClamped) {
    AdmissionPolicy p = policy();
    EXPECT_EQ(clamp_ttl(0, p), 30u);
    EXPECT_EQ(clamp_ttl(29, p), 30u);
    EXPECT_EQ(clamp_ttl(300, p), 300u);
    EXPECT_EQ(clamp_ttl(86400, p), 3600u);
    EXPECT_EQ(clamp_ttl(4294967295u, p), 3600u);
}

}  // namespace
}  // namespace rustyolo::net
