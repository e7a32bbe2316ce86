/* forkbomb: a bounded fork bomb. Forks children that only wait, until fork fails or MAX children
 * exist (default 100000, so it always ends), then kills and reaps them all and reports:
 *
 *     forked <N>
 *     errno <NAME>     EAGAIN when a pids limit stopped it, "none" when MAX was reached
 *     reaped <N>
 *
 * Children die with this process (PR_SET_PDEATHSIG), so nothing outlives it even if it is killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long max = argc > 1 ? atol(argv[1]) : 100000;
    if (max <= 0 || max > 100000)
        max = 100000;
    pid_t *children = calloc((size_t)max, sizeof *children);
    if (!children) {
        perror("forkbomb: calloc");
        return 1;
    }
    pid_t self = getpid();
    long forked = 0;
    int err = 0;
    while (forked < max) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != self)
                _exit(0);
            for (;;)
                pause();
        }
        children[forked++] = pid;
    }
    printf("forked %ld\n", forked);
    printf("errno %s\n", err == 0 ? "none" : err == EAGAIN ? "EAGAIN" : strerror(err));
    fflush(stdout);
    for (long i = 0; i < forked; ++i)
        kill(children[i], SIGKILL);
    long reaped = 0;
    for (long i = 0; i < forked; ++i)
        if (waitpid(children[i], NULL, 0) == children[i])
            ++reaped;
    printf("reaped %ld\n", reaped);
    return 0;
}
