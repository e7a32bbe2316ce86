"""The seccomp filter, through both the x86_64 and the i386 entry points.

Method (bubblewrap's try-syscall): tests/probes/syscalls.c calls each syscall with arguments that
make the kernel fail harmlessly (EBADF, EFAULT, EINVAL, ESRCH, ...) if the call gets through. A
denied call fails with the filter's errno instead: EPERM, or ENOSYS for clone3.

Docker's own default profile already denies many of these with EPERM, and the kernel refuses some
to a process without capabilities with EPERM too, so an EPERM alone does not prove that rustyolo's
filter exists. What does:
  - DISCRIMINATING calls, which plain Docker (same image, same uid, no capabilities, no_new_privs)
    lets through on this engine (Docker 20.10) but the sandbox denies;
  - the same calls going through again under `--seccomp-profile none` (the positive twin);
  - Seccomp_filters >= 2 in the agent's /proc/self/status (see test_privileges.py).
"""

import pytest

DENIED = [
    "ptrace", "process_vm_readv", "process_vm_writev",
    "mount", "umount2", "pivot_root", "chroot",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "bpf", "perf_event_open", "add_key", "request_key", "keyctl", "userfaultfd",
    "unshare", "setns", "acct", "swapon", "swapoff", "reboot", "quotactl", "iopl", "ioperm",
    "name_to_handle_at", "open_by_handle_at", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "clone_newns", "clone_newuts", "clone_newipc", "clone_newuser", "clone_newpid", "clone_newnet",
    "clone_newcgroup", "clone3", "ioctl_tiocsti", "ioctl_tiocsti_highbits",
    "socket_vsock", "socket_packet", "socket_family_max", "socketpair_vsock",
    "socketcall_socket_vsock", "socketcall_socket_inet",
]
NOT_ON_I386 = {"kexec_file_load", "ioctl_tiocsti_highbits"}  # no such call / no 64-bit request there
# i386's socketcall multiplexer: the family is in memory, so socketcall(SYS_SOCKET) is denied
# whatever it is, AF_INET included (32-bit programs make sockets through the direct syscall).
ONLY_ON_I386 = {"socketcall_socket_vsock", "socketcall_socket_inet"}
# Address families outside AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.
FAMILY_DENIED = {"socket_vsock", "socket_packet", "socket_family_max", "socketpair_vsock"} | ONLY_ON_I386
FILTER_ERRNO = {"clone3": "ENOSYS", **{name: "EAFNOSUPPORT" for name in FAMILY_DENIED}}  # else EPERM

# Allowed calls with the result they must still give (the positive twins).
ALLOWED = {
    "allowed_read_badfd": "EBADF",
    "allowed_write_badfd": "EBADF",
    "allowed_getpid": "OK",
    "allowed_ioctl_tiocgwinsz": "EBADF",
    "allowed_clone_no_newflags": "EINVAL",  # clone itself is allowed; only CLONE_NEW* flags are denied
    "allowed_personality_query": "OK",
    "allowed_fork_and_wait": "OK",
    "allowed_socket_unix": "OK",
    "allowed_socket_inet": "OK",
    "allowed_socket_inet6": "OK",
    "allowed_socket_netlink": "OK",
    "allowed_socketpair_unix": "OK",
}

# The x32 entry point (64-bit build only). This kernel may lack x32 (then ENOSYS); a filter may
# also kill the caller. Anything but the argument error means the call did not run.
X32 = ["x32_ptrace", "x32_mount", "x32_unshare", "x32_io_uring_setup", "x32_bpf", "x32_socket_vsock"]
X32_NOT_RUN = {"EPERM", "ENOSYS", "KILLED_SIGSYS", "EAFNOSUPPORT"}

# Calls that Docker 20.10's default profile lets an unprivileged container make (measured by the
# baseline below) but rustyolo denies: these prove that rustyolo's own filter is in place.
DISCRIMINATING = ["ptrace", "io_uring_setup", "io_uring_enter", "io_uring_register", "ioctl_tiocsti",
                  "ioctl_tiocsti_highbits", "socket_vsock", "socketcall_socket_vsock"]

ABIS = ["x86_64", "i386"]
# Both builds in one session; each one's exit status is reported, so one that dies does not hide
# the other's results.
SCRIPT = "/probes/syscalls64; echo \"status x86_64 $?\"; /probes/syscalls32; echo \"status i386 $?\""


def expected_names(abi):
    denied = [n for n in DENIED if not (abi == "i386" and n in NOT_ON_I386)
              and not (abi != "i386" and n in ONLY_ON_I386)]
    return set(denied) | set(ALLOWED) | (set(X32) if abi == "x86_64" else set()) | {"done"}


def parse(run):
    """Probe output -> {abi: {name: result}}, plus {"status": {abi: exit status}}."""
    results, current = {"status": {}}, None
    for line in run.lines():
        name, _, result = line.partition(" ")
        if name == "status":
            abi, _, code = result.partition(" ")
            results["status"][abi] = code
            current = None
        elif name == "abi":
            current = results.setdefault(result, {})
        elif current is not None:
            current[name] = result
    return results


@pytest.fixture(scope="module")
def sandboxed(rustyolo, project_factory):
    run = rustyolo.exec(["sh", "-c", SCRIPT], cwd=project_factory("syscalls"))
    assert run.rc == 0, run
    return parse(run), run


@pytest.fixture(scope="module")
def docker_alone(docker, image):
    run = docker.baseline("/bin/sh", ["-c", SCRIPT])
    assert run.rc == 0, run
    return parse(run), run


@pytest.fixture(scope="module")
def filter_off(rustyolo, project_factory):
    run = rustyolo.exec(["sh", "-c", SCRIPT], cwd=project_factory("syscalls-none"),
                        opts=["--seccomp-profile", "none"])
    assert run.rc == 0, run
    return parse(run), run


def _cases(names_for_abi):
    return [(abi, n) for abi in ABIS for n in names_for_abi(abi)]


@pytest.mark.parametrize("abi", ABIS)
def test_probe_reports_every_check(sandboxed, abi):
    results, run = sandboxed
    assert results["status"].get(abi) == "0", f"the {abi} probe did not exit 0:{run}"
    assert abi in results, f"no output for the {abi} entry point:{run}"
    assert set(results[abi]) == expected_names(abi), run
    assert results[abi]["done"] == "OK", run


@pytest.mark.parametrize("abi,name", _cases(lambda abi: sorted(expected_names(abi) & set(DENIED))))
def test_denied_syscall_fails_with_the_filters_errno(sandboxed, abi, name):
    results, run = sandboxed
    want = FILTER_ERRNO.get(name, "EPERM")
    assert results.get(abi, {}).get(name) == want, f"{abi} {name}: {results.get(abi, {}).get(name)}, want {want}"


@pytest.mark.parametrize("abi,name", _cases(lambda abi: sorted(ALLOWED)))
def test_allowed_syscall_still_behaves(sandboxed, abi, name):
    results, run = sandboxed
    assert results.get(abi, {}).get(name) == ALLOWED[name], f"{abi} {name}: {results.get(abi, {}).get(name)}"


@pytest.mark.parametrize("name", X32)
def test_x32_entry_point_does_not_reach_denied_calls(sandboxed, name):
    results, run = sandboxed
    assert results.get("x86_64", {}).get(name) in X32_NOT_RUN, f"{name}: {results.get('x86_64', {}).get(name)}"


@pytest.mark.parametrize("abi,name", _cases(lambda abi: [n for n in DISCRIMINATING if n in expected_names(abi)]))
def test_rustyolo_denies_what_docker_alone_lets_through(sandboxed, docker_alone, abi, name):
    """Proof that the sandbox's own filter is in place, not just Docker's."""
    docker_result = docker_alone[0].get(abi, {}).get(name)
    want = FILTER_ERRNO.get(name, "EPERM")
    assert docker_result not in (None, "EPERM", "ENOSYS", want), (
        f"{abi} {name}: Docker's own profile already denies it on this engine ({docker_result}), so it "
        f"no longer discriminates; choose another call:{docker_alone[1]}")
    assert sandboxed[0].get(abi, {}).get(name) == want, sandboxed[1]


@pytest.mark.parametrize("abi,name", _cases(lambda abi: [n for n in DISCRIMINATING if n in expected_names(abi)]))
def test_twin_seccomp_profile_none_lets_them_through(filter_off, docker_alone, abi, name):
    """With rustyolo's filter disabled, the discriminating calls reach the kernel again."""
    assert filter_off[0].get(abi, {}).get(name) == docker_alone[0].get(abi, {}).get(name), filter_off[1]


def test_seccomp_profile_none_is_loud(filter_off):
    run = filter_off[1]
    assert "seccomp" in run.err.lower(), f"--seccomp-profile none must warn on stderr:{run}"
