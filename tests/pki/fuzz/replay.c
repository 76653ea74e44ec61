/* SPDX-License-Identifier: Apache-2.0 */
/* replay.c - runs a fuzz harness without libFuzzer: every seed file given on
 * the command line, then deterministic mutations of each (bit flips, byte
 * overwrites, truncations, insertions, splices).  Used as a ctest test so
 * the harnesses run in every build, and under the sanitizers with
 * SK_SANITIZE. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *len = buf != NULL ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    unsigned rounds = 3000;
    size_t runs = 0;
    for (int a = 1; a < argc; a++) {
        size_t len;
        uint8_t *seed = read_file(argv[a], &len);
        if (seed == NULL) {
            fprintf(stderr, "cannot read %s\n", argv[a]);
            return 1;
        }
        LLVMFuzzerTestOneInput(seed, len);
        uint8_t *m = malloc(len + 64);
        for (unsigned r = 0; r < rounds; r++) {
            size_t ml = len;
            memcpy(m, seed, len);
            unsigned edits = 1 + (unsigned)(next() % 4);
            for (unsigned e = 0; e < edits; e++) {
                size_t pos = ml ? (size_t)(next() % ml) : 0;
                switch (next() % 5) {
                case 0:
                    if (ml)
                        m[pos] ^= (uint8_t)(1u << (next() % 8));
                    break;
                case 1:
                    if (ml)
                        m[pos] = (uint8_t)next();
                    break;
                case 2:
                    ml = pos;
                    break;
                case 3:
                    if (ml < len + 63) {
                        memmove(m + pos + 1, m + pos, ml - pos);
                        m[pos] = (uint8_t)next();
                        ml++;
                    }
                    break;
                default:
                    if (ml) {
                        size_t from = (size_t)(next() % ml), n = (size_t)(next() % 8);
                        for (size_t i = 0; i < n && pos + i < ml && from + i < ml; i++)
                            m[pos + i] = m[from + i];
                    }
                    break;
                }
            }
            LLVMFuzzerTestOneInput(m, ml);
            runs++;
        }
        free(m);
        free(seed);
    }
    printf("%zu inputs from %d seeds ran\n", runs + (size_t)(argc - 1), argc - 1);
    return argc > 1 ? 0 : 1;
}
