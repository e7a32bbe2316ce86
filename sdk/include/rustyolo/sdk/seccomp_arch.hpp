// The names rustyolo gives libseccomp's architecture tokens (audit records, messages). Needs
// <seccomp.h> (libseccomp), so only code that links libseccomp includes it.
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <string>

namespace rustyolo {

inline std::string seccomp_arch_name(std::uint32_t arch) {
    switch (arch) {
    case SCMP_ARCH_X86_64: return "x86_64";
    case SCMP_ARCH_X86: return "x86";
    case SCMP_ARCH_X32: return "x32";
    case SCMP_ARCH_AARCH64: return "aarch64";
    case SCMP_ARCH_ARM: return "arm";
    case SCMP_ARCH_PPC64: return "ppc64";
    case SCMP_ARCH_PPC64LE: return "ppc64le";
    case SCMP_ARCH_PPC: return "ppc";
    case SCMP_ARCH_S390X: return "s390x";
    case SCMP_ARCH_S390: return "s390";
    case SCMP_ARCH_RISCV64: return "riscv64";
    default: return "arch-" + std::to_string(arch);
    }
}

}  // namespace rustyolo
