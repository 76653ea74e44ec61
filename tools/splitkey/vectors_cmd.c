/* SPDX-License-Identifier: Apache-2.0 */
/* vectors_cmd.c - the `splitkey vectors` command: usage, option handling and
 * `--out DIR`, which generates the 18 vectors and writes one file each. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vectors.h"

#define CMD "vectors"

/* ------------------------------------------------------------ --out DIR */

static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == EEXIST)
        errno = ENOTDIR;
    return -1;
}

/* Writes one vector to DIR/NAME (through a memory buffer and an atomic
 * rename). */
static int write_vector(const char *dir, const vec *v)
{
    char *name = vec_file_name(v->profile, v->scheme, v->hash);
    char *path = NULL, *buf = NULL;
    size_t buf_len = 0;
    FILE *mem;
    int rc = -1;

    if (name == NULL)
        return -1;
    path = malloc(strlen(dir) + strlen(name) + 2);
    mem = open_memstream(&buf, &buf_len);
    if (path != NULL && mem != NULL) {
        sprintf(path, "%s/%s", dir, name);
        int json_rc = vec_write_json(mem, v);
        if (fclose(mem) == 0 && json_rc == 0 && buf != NULL) {
            rc = util_write_file(path, buf, buf_len);
            if (rc != 0)
                cli_fail(CMD, "cannot write %s: %s", path, strerror(errno));
        } else {
            cli_fail(CMD, "cannot write %s: out of memory", path);
        }
        mem = NULL;
    }
    if (mem != NULL)
        fclose(mem);
    if (buf != NULL) {
        sk_wipe(buf, buf_len);
        free(buf);
    }
    free(path);
    free(name);
    return rc;
}

static void report_to_stderr(void *ctx, const char *field, const char *what)
{
    fprintf(stderr, "splitkey vectors: %s: field %s: %s\n", (const char *)ctx, field, what);
}

static int bytes_from_string(vec_bytes *b, char *s)
{
    int rc;
    if (s == NULL)
        return SK_ERR_NOMEM;
    rc = vec_bytes_set(b, s, strlen(s));
    free(s);
    return rc;
}

int vectors_write(const char *dir)
{
    int ret = CLI_FAIL, written = 0;

    if (make_dir(dir) != 0)
        return cli_fail(CMD, "cannot create %s: %s", dir, strerror(errno));
    for (size_t pi = 0; pi < 3; pi++) {
        sk_profile profile = vec_profiles[pi];
        vec_bytes seed_client = {0}, seed_server = {0};
        vec_keys keys;
        double t = util_now_ms();
        int rc;

        rc = bytes_from_string(&seed_client, vec_seed_client(profile));
        if (rc == SK_OK)
            rc = bytes_from_string(&seed_server, vec_seed_server(profile));
        if (rc == SK_OK)
            rc = vec_keys_generate(&keys, profile, &seed_client, &seed_server);
        vec_bytes_free(&seed_client);
        vec_bytes_free(&seed_server);
        if (rc != SK_OK) {
            cli_fail(CMD, "key generation for %s failed: %s", sk_profile_name(profile),
                     sk_strerror(rc));
            return CLI_FAIL;
        }
        printf("%s: keys generated from their seeds in %.0f ms\n", sk_profile_name(profile),
               util_now_ms() - t);
        for (size_t si = 0; si < 2; si++) {
            for (size_t hi = 0; hi < 3; hi++) {
                sk_scheme scheme = vec_schemes[si];
                sk_hash hash = vec_hashes[hi];
                vec_bytes seed = {0}, message = {0}, salt = {0};
                vec v;
                char *name = vec_file_name(profile, scheme, hash);
                int failures;

                rc = bytes_from_string(&seed, vec_seed(profile, scheme, hash));
                if (rc == SK_OK)
                    rc = bytes_from_string(&message, vec_message(profile, scheme, hash));
                if (rc == SK_OK)
                    rc = vec_salt(&salt, scheme, hash, &seed);
                if (rc == SK_OK)
                    rc = vec_compute(&v, &keys, scheme, hash, &seed, &message, &salt);
                vec_bytes_free(&seed);
                vec_bytes_free(&message);
                vec_bytes_free(&salt);
                if (rc != SK_OK) {
                    cli_fail(CMD, "computing %s failed: %s", name ? name : "a vector",
                             sk_strerror(rc));
                    free(name);
                    vec_keys_free(&keys);
                    return CLI_FAIL;
                }
                /* Never publish a vector that the independent recomputation
                 * does not confirm. */
                failures = vec_check_math(&v, report_to_stderr, name ? name : "?");
                if (failures == 0 && write_vector(dir, &v) == 0) {
                    printf("  wrote %s/%s\n", dir, name ? name : "?");
                    written++;
                } else if (failures != 0) {
                    cli_fail(CMD, "%s: the library's result failed %d independent checks",
                             name ? name : "?", failures);
                }
                vec_free(&v);
                free(name);
                if (failures != 0) {
                    vec_keys_free(&keys);
                    return CLI_FAIL;
                }
            }
        }
        vec_keys_free(&keys);
    }
    if (written == 18) {
        printf("wrote %d vectors to %s\n", written, dir);
        ret = CLI_OK;
    }
    return ret;
}

/* ---------------------------------------------------------------- command */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: splitkey vectors --out DIR\n"
            "       splitkey vectors --check DIR\n"
            "\n"
            "--out DIR    writes the deterministic two-party test vectors, one JSON file\n"
            "             per profile (4K, 6K, 8K), scheme (pkcs1, pss) and hash (sha256,\n"
            "             sha384, sha512): DIR/<profile>-<scheme>-<hash>.json.  All\n"
            "             randomness comes from a seeded DRBG, so the output is the same\n"
            "             on every run.\n"
            "--check DIR  reads every *.json file in DIR and recomputes it: the partial\n"
            "             signature from dc and em, the completion from ds, p2 and q2, em\n"
            "             from the digest and the salt, the whole vector again from its\n"
            "             seeds, and verifies the signature under n.  Prints one line per\n"
            "             mismatch, naming the file and the field.\n"
            "\n"
            "The format is described in tests/vectors/twoparty/README.md.\n"
            "Exit status: 0 all vectors written or all match, 1 a mismatch or another\n"
            "failure, 2 usage error.\n");
}

int cmd_vectors(int argc, char **argv)
{
    const char *out_dir, *check_dir;
    const cli_option opts[] = {{"--out", &out_dir, NULL}, {"--check", &check_dir, NULL}};
    int rc = cli_parse_options(CMD, argc, argv, opts, sizeof opts / sizeof opts[0]);

    if (rc == CLI_HELP) {
        usage(stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if ((out_dir == NULL) == (check_dir == NULL))
        return cli_usage_error(CMD, "give exactly one of --out DIR and --check DIR");
    if (sk_init() != SK_OK)
        return cli_fail(CMD, "library initialisation failed");
    return out_dir ? vectors_write(out_dir) : vectors_check(check_dir);
}
