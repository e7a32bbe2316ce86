/* hopper: an agent that leaves processes behind which outlive the supervisor's sweep of leftovers
 * (entrypoint/supervisor.cc end_leftovers: list /proc, signal each pid, poll every 50 ms, return
 * when a listing is empty) by never keeping a pid: 2^FORKS chains (default 4), in each the process
 * forks and exits, over and over ("fork hopping"), with SIGTERM ignored. Each
 * generation sends SENDS (default 8) UDP datagrams to TARGET:PORT (blocked by the firewall: sendto fails with
 * EPERM) and appends one byte to LOG for each refused one, so LOG's size is exactly how many
 * blocked packets the agent caused (less at most the one
 * datagram in flight per process when it is SIGKILLed). The agent itself (the first process) exits after AGENT_MS.
 *
 * Each generation also calls mount(2), which the seccomp filter denies through the supervisor's
 * notifier, and appends to LOG.sys 'p' when the notifier answered (EPERM: a record is due) and
 * 'n' when the call failed with ENOSYS (nobody listens any more: denied, and never recorded).
 *
 * usage: hopper TARGET PORT AGENT_MS SECONDS LOG */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef FORKS
#define FORKS 2
#endif
#ifndef SENDS
#define SENDS 8
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: hopper TARGET PORT AGENT_MS SECONDS LOG\n");
        return 2;
    }
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
        return 2;
    const int agent_ms = atoi(argv[3]);
    const double seconds = atof(argv[4]);
    int log = open(argv[5], O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
    char sys_path[4096];
    snprintf(sys_path, sizeof sys_path, "%s.sys", argv[5]);
    int sys_log = open(sys_path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (log < 0 || sys_log < 0 || s < 0)
        return 2;
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    const double start = now();
    pid_t first = fork();
    if (first > 0) {
        usleep((useconds_t)agent_ms * 1000);
        printf("agent exits\n");
        return 0;  /* the agent is done; what it left goes on */
    }
    if (first < 0)
        return 2;
    setsid();
    /* 2^FORKS chains of hoppers (by default 4). */
    for (int chain = 0; chain < FORKS; ++chain)
        if (fork() < 0)
            return 2;
    for (;;) {
        pid_t child = fork();
        if (child > 0)
            _exit(0);
        if (child < 0)
            continue; /* the pids limit: try again */
        if (now() - start > seconds)
            _exit(0);
        /* One byte per refused datagram, written at once: a SIGKILL can only make LOG short by the
         * datagram in flight, never long. */
        for (int i = 0; i < SENDS; ++i)
            if (sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof to) < 0 && errno == EPERM &&
                write(log, "x", 1) != 1)
                _exit(3);
        /* A denied syscall (mount: the seccomp filter notifies the supervisor, which answers
         * EPERM and makes a record). ENOSYS means nobody answered: denied without a record. */
        if (syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL) < 0 &&
            write(sys_log, errno == ENOSYS ? "n" : errno == EPERM ? "p" : "?", 1) != 1)
            _exit(3);
    }
}
