/* setuid: prints the ids it runs with:
 *
 *     UID=<real> EUID=<effective> SUID=<saved>
 *
 * The test installs it root-owned with mode 4755. Started by uid 1000 it prints EUID=0 where
 * setuid works, and EUID=1000 under no_new_privs (moby's integration probe does the same).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(void) {
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0) {
        perror("setuid: getresuid");
        return 1;
    }
    printf("UID=%u EUID=%u SUID=%u\n", (unsigned)r, (unsigned)e, (unsigned)s);
    return 0;
}
