// The default syscall policy as built (exported as pseudo filter code): every rule on every ABI.
// What the kernel then does with it is checked in filter_enforcement_test.cc.
#include "plugins/seccomp/default_policy.hpp"
#include "tests/unit/plugins/seccomp/pfc_text.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace rustyolo::seccomp {
namespace {

using testing::sections_by_arch;
using testing::syscall_block;

class SeccompDefaultPolicy : public ::testing::Test {
protected:
    void SetUp() override {
        Filter filter = default_filter();
        arches = filter.arches();
        rules = filter.rules();
        sections = sections_by_arch(filter.export_pfc());
    }
    std::vector<std::uint32_t> arches;
    std::size_t rules = 0;
    std::map<std::string, std::string> sections;
};

TEST_F(SeccompDefaultPolicy, CoversEveryAbiOfTheMachine) {
    EXPECT_EQ(arches, machine_arches());
    ASSERT_EQ(sections.size(), arches.size());
    for (std::uint32_t arch : arches)
        EXPECT_TRUE(sections.count(arch_name(arch))) << arch_name(arch);
#if defined(__x86_64__)
    EXPECT_EQ(arches, (std::vector<std::uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32}));
#endif
}

TEST_F(SeccompDefaultPolicy, AllowsWhatNoRuleDenies) {
    for (const auto &[arch, section] : sections) {
        const auto pos = section.find("# default action");
        ASSERT_NE(pos, std::string::npos) << arch;
        EXPECT_NE(section.find("action ALLOW;", pos), std::string::npos) << arch;
    }
}

TEST_F(SeccompDefaultPolicy, DeniesEachListedSyscallWithEpermOnEveryAbiThatHasIt) {
    for (std::uint32_t arch : arches) {
        const std::string &section = sections[arch_name(arch)];
        for (std::string_view name : always_denied_syscalls()) {
            const std::string n(name);
            const int nr = seccomp_syscall_resolve_name_arch(arch, n.c_str());
            const std::string block = syscall_block(section, n);
            if (nr < 0)
                continue;  // not on this ABI (e.g. umount and vm86 exist on x86 only)
            ASSERT_FALSE(block.empty()) << n << " has no rule on " << arch_name(arch);
            EXPECT_NE(block.find("(" + std::to_string(nr) + ")"), std::string::npos)
                << n << " on " << arch_name(arch) << " should be syscall " << nr << ":\n"
                << block;
            EXPECT_NE(block.find("action ERRNO(" + std::to_string(EPERM) + ");"), std::string::npos) << block;
            EXPECT_EQ(block.find("if ($a"), std::string::npos)
                << n << " must be denied whatever its arguments";
        }
    }
}

TEST_F(SeccompDefaultPolicy, EveryListedSyscallExistsSomewhere) {
    for (std::string_view name : always_denied_syscalls()) {
        bool somewhere = false;
        for (std::uint32_t arch : machine_arches())
            somewhere |= seccomp_syscall_resolve_name_arch(arch, std::string(name).c_str()) >= 0;
#if defined(__x86_64__)
        EXPECT_TRUE(somewhere) << name;
#endif
    }
}

#if defined(__x86_64__)
TEST_F(SeccompDefaultPolicy, UsesEachAbisOwnSyscallNumbers) {
    // ptrace: 101 on x86_64, 26 on x86, 521 | __X32_SYSCALL_BIT on x32 (not 101 | the bit).
    EXPECT_NE(syscall_block(sections["x86_64"], "ptrace").find("(101)"), std::string::npos);
    EXPECT_NE(syscall_block(sections["x86"], "ptrace").find("(26)"), std::string::npos);
    EXPECT_NE(syscall_block(sections["x32"], "ptrace").find("(" + std::to_string(0x40000000 + 521) + ")"),
              std::string::npos);
    EXPECT_NE(syscall_block(sections["x32"], "ioctl").find("(" + std::to_string(0x40000000 + 514) + ")"),
              std::string::npos);
    // umount exists only on x86.
    EXPECT_FALSE(syscall_block(sections["x86"], "umount").empty());
}

TEST_F(SeccompDefaultPolicy, ComparesTheIoctlRequestOnItsLow32Bits) {
    const std::string sti = std::to_string(0x5412), linux_ = std::to_string(0x541C);
    const std::string native = syscall_block(sections["x86_64"], "ioctl");
    EXPECT_NE(native.find("$a1.hi32 & 0x00000000 == 0"), std::string::npos) << native;
    EXPECT_NE(native.find("$a1.lo32 & 0xffffffff == " + sti), std::string::npos) << native;
    EXPECT_NE(native.find("$a1.lo32 & 0xffffffff == " + linux_), std::string::npos) << native;
    for (const char *compat : {"x86", "x32"}) {
        const std::string block = syscall_block(sections[compat], "ioctl");
        EXPECT_NE(block.find("$a1 & 0xffffffff == " + sti), std::string::npos) << compat << block;
        EXPECT_NE(block.find("$a1 & 0xffffffff == " + linux_), std::string::npos) << compat << block;
    }
}
#endif

TEST(SeccompDefaultPolicyFamilies, OnlyUnixInetInet6AndNetlinkSocketsAreAllowed) {
    EXPECT_EQ(allowed_socket_families(), (std::vector<int>{1, 2, 10, 16}));
}

#if defined(__x86_64__)
TEST_F(SeccompDefaultPolicy, DeniesEveryOtherAddressFamilyOnEveryAbi) {
    const std::string afnosupport = "action ERRNO(" + std::to_string(EAFNOSUPPORT) + ");";
    for (const char *name : {"socket", "socketpair"}) {
        // x86_64: the family's low 32 bits are compared (the kernel truncates the int), and every
        // 64-bit value above AF_NETLINK is denied.
        const std::string native = syscall_block(sections["x86_64"], name);
        ASSERT_FALSE(native.empty()) << name;
        EXPECT_NE(native.find(afnosupport), std::string::npos) << native;
        for (int family : {0, 3, 9, 11, 15})
            EXPECT_NE(native.find("$a0.lo32 & 0xffffffff == " + std::to_string(family) + ")"), std::string::npos)
                << name << " " << family << native;
        for (int family : {1, 2, 10, 16})
            EXPECT_EQ(native.find("$a0.lo32 & 0xffffffff == " + std::to_string(family) + ")"), std::string::npos)
                << name << " " << family << native;
        EXPECT_NE(native.find("$a0.hi32 > 0"), std::string::npos) << native;
        EXPECT_NE(native.find("$a0.lo32 > 16"), std::string::npos) << native;
        for (const char *compat : {"x86", "x32"}) {
            const std::string block = syscall_block(sections[compat], name);
            ASSERT_FALSE(block.empty()) << compat << " " << name;
            for (int family : {0, 3, 9, 11, 15})
                EXPECT_NE(block.find("$a0 & 0xffffffff == " + std::to_string(family) + ")"), std::string::npos)
                    << compat << " " << family << block;
            for (int family : {1, 2, 10, 16})
                EXPECT_EQ(block.find("$a0 & 0xffffffff == " + std::to_string(family) + ")"), std::string::npos)
                    << compat << " " << family << block;
            EXPECT_NE(block.find("$a0 > 16"), std::string::npos) << compat << block;
            EXPECT_NE(block.find(afnosupport), std::string::npos) << compat << block;
        }
    }
    // i386's socketcall carries the family in memory: libseccomp denies socketcall(SYS_SOCKET) and
    // socketcall(SYS_SOCKETPAIR) whatever the family, and nothing else of it.
    const std::string socketcall = syscall_block(sections["x86"], "socketcall");
    ASSERT_FALSE(socketcall.empty());
    EXPECT_NE(socketcall.find("if ($a0 == 1)"), std::string::npos) << socketcall;
    EXPECT_NE(socketcall.find("if ($a0 == 8)"), std::string::npos) << socketcall;
    EXPECT_NE(socketcall.find(afnosupport), std::string::npos) << socketcall;
    EXPECT_EQ(socketcall.find("$a0 == 3"), std::string::npos) << socketcall;  // SYS_CONNECT
}
#endif

TEST_F(SeccompDefaultPolicy, Clone3FailsWithEnosysSoThatLibcFallsBackToClone) {
    for (const auto &[arch, section] : sections) {
        const std::string block = syscall_block(section, "clone3");
        ASSERT_FALSE(block.empty()) << arch;
        EXPECT_NE(block.find("action ERRNO(" + std::to_string(ENOSYS) + ");"), std::string::npos) << block;
    }
}

TEST_F(SeccompDefaultPolicy, DeniesCloneOnlyWithNamespaceFlags) {
    for (const auto &[arch, section] : sections) {
        const std::string block = syscall_block(section, "clone");
        ASSERT_FALSE(block.empty()) << arch;
        // One masked test per CLONE_NEW* flag; no unconditional rule.
        for (unsigned long flag : {0x00020000UL, 0x02000000UL, 0x04000000UL, 0x08000000UL, 0x10000000UL,
                                   0x20000000UL, 0x40000000UL})
            EXPECT_NE(block.find("== " + std::to_string(flag)), std::string::npos)
                << arch << " flag " << flag;
    }
}

}  // namespace
}  // namespace rustyolo::seccomp
