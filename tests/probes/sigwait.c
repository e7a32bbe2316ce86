/* sigwait: a stand-in agent for the signal tests.
 *
 *     sigwait catch [SECONDS]   handles SIGTERM, SIGINT and SIGHUP: prints "GOT <SIGNAL>" and exits
 *                               with 64 + the signal number (SIGTERM: 79, SIGINT: 66, SIGHUP: 65).
 *     sigwait ignore [SECONDS]  ignores SIGTERM, SIGINT and SIGHUP.
 *
 * Either way it first prints "READY", then waits up to SECONDS (default 60), prints "TIMEOUT" and
 * exits 1 if no handled signal came.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_signal(int sig) { got = sig; }

static const char *name(int sig) {
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "OTHER";
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "catch";
    int seconds = argc > 2 ? atoi(argv[2]) : 60;
    int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = strcmp(mode, "ignore") == 0 ? SIG_IGN : on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
        sigaction(sigs[i], &sa, NULL);
    printf("READY\n");
    fflush(stdout);
    time_t end = time(NULL) + seconds;
    while (!got && time(NULL) < end)
        sleep(1); /* interrupted by a handled signal */
    if (got) {
        printf("GOT %s\n", name(got));
        fflush(stdout);
        return 64 + got;
    }
    printf("TIMEOUT\n");
    return 1;
}
