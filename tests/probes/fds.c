/* fds: lists the file descriptors this process was started with, one line each:
 *
 *     fd <N> <target of /proc/self/fd/N>
 *
 * The descriptor of the /proc/self/fd directory itself (opened to list it) is left out. A sandbox
 * that passes only stdin, stdout and stderr to the agent shows exactly fds 0, 1 and 2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) {
        perror("fds: opendir /proc/self/fd");
        return 1;
    }
    int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        int fd = atoi(entry->d_name);
        if (fd == own)
            continue;
        char path[64], target[PATH_MAX];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        printf("fd %d %s\n", fd, n < 0 ? "?" : target);
    }
    closedir(dir);
    printf("done\n");
    return 0;
}
