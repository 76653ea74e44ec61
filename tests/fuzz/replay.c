/* SPDX-License-Identifier: Apache-2.0 */
/* replay.c - feeds files to a fuzz harness without libFuzzer.
 *   replay_<harness> PATH...   (files, or directories whose files are read)
 * Runs LLVMFuzzerInitialize once, then LLVMFuzzerTestOneInput on every file in
 * name order.  Exits 0 when at least one input ran and none crashed (a crash
 * or a broken invariant aborts the process); 1 on a read error or when no
 * input was found, so a missing corpus cannot pass. */
#define _POSIX_C_SOURCE 200809L /* scandir */

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 4096;
            uint8_t *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        perror(path);
        return -1;
    }
    /* Like libFuzzer, hand over a buffer of exactly the input's size. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    long inputs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) != 0)
                return 1;
            inputs++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, by_name);
        if (n < 0) {
            perror(argv[i]);
            return 1;
        }
        int failed = 0;
        for (int j = 0; j < n; j++) {
            if (!failed && names[j]->d_name[0] != '.') {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
                if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                    if (run_file(path) != 0)
                        failed = 1;
                    else
                        inputs++;
                }
            }
            free(names[j]);
        }
        free(names);
        if (failed)
            return 1;
    }
    printf("replay: %ld inputs, no crash\n", inputs);
    if (inputs == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    return 0;
}
