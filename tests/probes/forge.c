/* Tries, as the agent, to forge or read the session's audit records:
 *   - prints lines shaped like audit records on stdout and stderr;
 *   - connects to the session socket (the host accepts one connection, the supervisor's, and then
 *     removes the name) and, if that worked, sends a record;
 *   - opens the supervisor's descriptors through /proc/1/fd.
 * Output, one "key value" per line: connect <ok|errno name>, sent <n|->, proc1fd <ok|errno name>. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EROFS: return "EROFS";
    default: return "EOTHER";
    }
}

int main(int argc, char **argv) {
    const char *socket_path = argc > 1 ? argv[1] : "/run/rustyolo/session/session.sock";
    const char *forged =
        "{\"time\":\"2026-01-01T00:00:00.000Z\",\"layer\":\"lifecycle\",\"verdict\":\"info\","
        "\"event\":\"forged_by_agent\",\"details\":{}}\n";
    fputs(forged, stderr);
    fflush(stderr);
    printf("fake %s", forged);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    strncpy(address.sun_path, socket_path, sizeof address.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) == 0) {
        ssize_t n = write(fd, forged, strlen(forged));
        printf("connect ok\nsent %zd\n", n);
    } else {
        printf("connect %s\nsent -\n", errname(errno));
    }
    close(fd);

    int found = 0;
    for (int i = 3; i < 64 && !found; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/1/fd/%d", i);
        int f = open(path, O_WRONLY);
        if (f >= 0) {
            printf("proc1fd ok\n");
            close(f);
            found = 1;
        } else if (errno != ENOENT) {
            printf("proc1fd %s\n", errname(errno));
            found = 1;
        }
    }
    if (!found)
        printf("proc1fd ENOENT\n");
    return 0;
}
