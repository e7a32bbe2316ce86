/* membomb: allocates memory in 8 MiB chunks and touches every page, up to LIMIT MiB (argument,
 * default 4096), printing after each chunk:
 *
 *     allocated <MiB>
 *
 * and at the end "survived <MiB>". Under a memory limit below LIMIT it is killed by the OOM
 * killer part-way (the last "allocated" line shows how far it got). Never allocates more than
 * LIMIT, so it always ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_MIB 8

int main(int argc, char **argv) {
    long limit = argc > 1 ? atol(argv[1]) : 4096;
    if (limit <= 0 || limit > 4096)
        limit = 4096;
    setvbuf(stdout, NULL, _IOLBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    long total = 0;
    while (total + CHUNK_MIB <= limit) {
        size_t size = (size_t)CHUNK_MIB << 20;
        char *chunk = malloc(size);
        if (!chunk) {
            printf("malloc-failed %ld\n", total);
            return 3;
        }
        for (size_t i = 0; i < size; i += (size_t)page)
            chunk[i] = 1;
        total += CHUNK_MIB;
        printf("allocated %ld\n", total);
    }
    printf("survived %ld\n", total);
    return 0;
}
