/* fswrite: tries filesystem changes and prints one line per attempt:
 *
 *     <op> <path> <RESULT>
 *
 * RESULT is OK or the errno's symbolic name (EROFS, EACCES, EBUSY, ...). Operations, one argument
 * each:
 *
 *     write:PATH          open an existing file O_WRONLY|O_TRUNC and write "pwned\n"
 *     create:PATH         create a new file (O_EXCL) and write "pwned\n"
 *     mkdir:PATH          create a directory
 *     unlink:PATH         remove a file
 *     rmdir:PATH          remove a directory
 *     chmod:PATH          chmod 0777
 *     rename:PATH:NEW     rename PATH to NEW
 *
 * Started under the name "claude" (a stand-in for the agent's executable), it ignores its
 * arguments and takes the operations from $FSWRITE_OPS, separated by spaces.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errno_name(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    default: return NULL;
    }
}

static void report(const char *op, const char *path, int rc, int err) {
    if (rc == 0) {
        printf("%s %s OK\n", op, path);
        return;
    }
    const char *name = errno_name(err);
    if (name)
        printf("%s %s %s\n", op, path, name);
    else
        printf("%s %s E%d\n", op, path, err);
}

static int write_fd(int fd) {
    static const char text[] = "pwned\n";
    int rc = write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1) ? 0 : -1;
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

static void run(char *spec) {
    char *colon = strchr(spec, ':');
    if (!colon) {
        printf("bad-spec %s -\n", spec);
        return;
    }
    *colon = '\0';
    const char *op = spec;
    char *path = colon + 1;
    char *second = NULL;
    if (strcmp(op, "rename") == 0) {
        second = strchr(path, ':');
        if (!second) {
            printf("bad-spec %s -\n", path);
            return;
        }
        *second++ = '\0';
    }
    int rc;
    errno = 0;
    if (strcmp(op, "write") == 0) {
        int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
        rc = fd < 0 ? -1 : write_fd(fd);
    } else if (strcmp(op, "create") == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        rc = fd < 0 ? -1 : write_fd(fd);
    } else if (strcmp(op, "mkdir") == 0) {
        rc = mkdir(path, 0755);
    } else if (strcmp(op, "unlink") == 0) {
        rc = unlink(path);
    } else if (strcmp(op, "rmdir") == 0) {
        rc = rmdir(path);
    } else if (strcmp(op, "chmod") == 0) {
        rc = chmod(path, 0777);
    } else if (strcmp(op, "rename") == 0) {
        rc = rename(path, second);
    } else {
        printf("bad-op %s -\n", op);
        return;
    }
    report(op, path, rc, errno);
}

int main(int argc, char **argv) {
    char *self = strdup(argv[0]);
    if (strcmp(basename(self), "claude") == 0) {
        const char *ops = getenv("FSWRITE_OPS");
        char *copy = strdup(ops ? ops : "");
        for (char *save = NULL, *op = strtok_r(copy, " ", &save); op; op = strtok_r(NULL, " ", &save))
            run(op);
    } else {
        for (int i = 1; i < argc; ++i)
            run(argv[i]);
    }
    printf("done\n");
    return 0;
}
