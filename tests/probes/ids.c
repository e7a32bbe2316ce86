/* ids: prints who and where the process is, one "key value" line each:
 *
 *     uid, euid, suid, gid, egid, sgid   numeric ids
 *     groups                             supplementary groups, comma-separated ("-" when none)
 *     pid, ppid                          in the process's own PID namespace
 *     pid1_comm                          /proc/1/comm (who PID 1 is)
 *     visible_pids                       how many processes /proc shows
 *     home                               $HOME
 *     cwd                                the working directory
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    getresuid(&ru, &eu, &su);
    getresgid(&rg, &eg, &sg);
    printf("uid %u\neuid %u\nsuid %u\ngid %u\negid %u\nsgid %u\n", (unsigned)ru, (unsigned)eu,
           (unsigned)su, (unsigned)rg, (unsigned)eg, (unsigned)sg);

    gid_t groups[256];
    int n = getgroups(256, groups);
    printf("groups ");
    if (n <= 0)
        printf("-");
    for (int i = 0; i < n; ++i)
        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf("\n");

    printf("pid %d\nppid %d\n", (int)getpid(), (int)getppid());

    char comm[64] = "?";
    FILE *f = fopen("/proc/1/comm", "r");
    if (f) {
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    printf("pid1_comm %s\n", comm);

    int visible = 0;
    DIR *proc = opendir("/proc");
    if (proc) {
        struct dirent *e;
        while ((e = readdir(proc)) != NULL)
            if (isdigit((unsigned char)e->d_name[0]))
                ++visible;
        closedir(proc);
    }
    printf("visible_pids %d\n", visible);

    const char *home = getenv("HOME");
    printf("home %s\n", home ? home : "-");
    char cwd[PATH_MAX];
    printf("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : "-");
    return 0;
}
