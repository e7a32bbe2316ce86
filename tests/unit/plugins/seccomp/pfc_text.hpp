// Reading libseccomp's pseudo filter code (seccomp_export_pfc) in tests: one section per ABI,
// one block per syscall inside it.
#pragma once

#include <map>
#include <string>

namespace rustyolo::seccomp::testing {

// arch name ("x86_64", "x86", "x32", ...) -> the text of that ABI's section.
inline std::map<std::string, std::string> sections_by_arch(const std::string &pfc) {
    std::map<std::string, std::string> sections;
    const std::string marker = "# filter for arch ";
    std::size_t pos = pfc.find(marker);
    while (pos != std::string::npos) {
        const std::size_t name_start = pos + marker.size();
        const std::string name = pfc.substr(name_start, pfc.find(' ', name_start) - name_start);
        const std::size_t next = pfc.find(marker, name_start);
        sections[name] = pfc.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        pos = next;
    }
    return sections;
}

// The block of `section` that filters syscall `name` (empty when there is none): from its
// "# filter for syscall" comment to the next one or the default action.
inline std::string syscall_block(const std::string &section, const std::string &name) {
    const std::string marker = "# filter for syscall \"" + name + "\"";
    const std::size_t start = section.find(marker);
    if (start == std::string::npos)
        return "";
    std::size_t end = section.find("# filter for syscall", start + marker.size());
    if (end == std::string::npos)
        end = section.find("# default action", start);
    return section.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace rustyolo::seccomp::testing
