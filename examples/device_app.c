/* SPDX-License-Identifier: Apache-2.0 */
/* device_app.c - what a phone app does with its share of a split key, over
 * the client layer (splitkey/client.h) of libsplitkey-device.  The app owns
 * two things the library leaves to it: the network (here an nng REQ socket
 * to splitkey-server) and durable storage of the sealed state (here a file,
 * replaced atomically).  It links only libsplitkey-device and nng.
 *
 *   example-device-app enrol   --server URL --server-pub FILE --state FILE --pin-file F
 *                              [--purpose sign|auth] [--profile 4K|6K|8K]
 *                              [--token-file F | --subject S] [--pub-out PEM]
 *   example-device-app approve --server URL --state FILE --pin-file F [--wait SEC]
 *   example-device-app sign    --server URL --state FILE --pin-file F --in FILE --out SIG
 *   example-device-app status  --server URL --state FILE [--pin-file F]
 *
 * A real app asks for the PIN on screen; this one reads it from a file (the
 * first line) so that it never appears in a process listing.  The PIN and
 * the keys are never printed.  STATE.key beside the state holds the storage
 * key that seals it; a real app keeps that key in the platform keystore
 * (Android Keystore, iOS Keychain) instead.
 *
 * Exit status: 0 done, 1 failure, 2 usage, 3 wrong PIN, 4 key locked,
 * 5 key destroyed.
 */
#define _DEFAULT_SOURCE /* flock(), getrandom() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <splitkey/client.h>

#define TIMEOUT_MS 10000     /* one request's send and reply (DEVICE_APP_TIMEOUT_MS) */
#define RETRIES 2            /* resends of a request whose reply did not come */
#define APP_ERR_NET (-1000)  /* the app's own code for "no reply came" */
#define MAX_INPUT (64u << 20) /* the largest file `sign` reads */

static char net_err[160]; /* why the last exchange failed, for the user */

/* ------------------------------------------------------------ the network */

/* The share server takes one nng REQ message per request: the 4-byte
 * channel tag "SKD1" (a device request) followed by the request the library
 * built.  The reply is the library's bytes, or the server's "SKE1" error
 * frame, which the client layer decodes itself. */
static int exchange(void *ctx, const uint8_t *req, size_t req_len, uint8_t *reply,
                    size_t reply_cap, size_t *reply_len)
{
    nng_socket sock = *(nng_socket *)ctx;
    nng_msg *msg = NULL;
    int rv = nng_msg_alloc(&msg, 0);
    if (rv == 0 && (rv = nng_msg_append(msg, "SKD1", 4)) == 0 &&
        (rv = nng_msg_append(msg, req, req_len)) == 0 && (rv = nng_sendmsg(sock, msg, 0)) == 0)
        msg = NULL; /* nng owns it now */
    if (msg != NULL) {
        /* a request may hold the partial signature: wipe what we keep */
        sk_wipe(nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_free(msg);
        msg = NULL;
    }
    if (rv == 0 && (rv = nng_recvmsg(sock, &msg, 0)) == 0) {
        size_t len = nng_msg_len(msg);
        if (len <= reply_cap) {
            memcpy(reply, nng_msg_body(msg), len);
            *reply_len = len;
        } else {
            rv = NNG_EMSGSIZE;
        }
        sk_wipe(nng_msg_body(msg), len);
        nng_msg_free(msg);
    }
    if (rv == 0)
        return SK_OK;
    /* A timeout or a lost connection: the request may or may not have
     * reached the server.  The layer sends it again with the same request
     * id, which the server recognises; nng redials in the background. */
    snprintf(net_err, sizeof net_err, "no reply from the server: %s", nng_strerror(rv));
    return APP_ERR_NET;
}

/* The first connection is made before anything is sent, so a server that is
 * not there is reported at once and the stored state stays as it was. */
static int connect_server(nng_socket *sock, const char *url)
{
    const char *env = getenv("DEVICE_APP_TIMEOUT_MS"); /* for the tests */
    int ms = env != NULL && atoi(env) > 0 ? atoi(env) : TIMEOUT_MS;
    int rv = nng_req0_open(sock);
    if (rv == 0) {
        nng_socket_set_ms(*sock, NNG_OPT_SENDTIMEO, ms);
        nng_socket_set_ms(*sock, NNG_OPT_RECVTIMEO, ms);
        nng_socket_set_size(*sock, NNG_OPT_RECVMAXSZ, SK_MAX_MESSAGE_LEN + 64);
        rv = nng_dial(*sock, url, NULL, 0);
    }
    if (rv != 0)
        fprintf(stderr, "device-app: cannot connect to %s: %s\n", url, nng_strerror(rv));
    return rv == 0 ? 0 : -1;
}

/* ----------------------------------------------------------------- storage */

static const char *state_path;
static char tmp_path[4096], dir_path[4096];

/* Stores the sealed state (the library already encrypted it with the storage
 * key) in place of the stored one, atomically: write a temporary file, fsync
 * it, rename it over the old one, fsync the directory so that the rename
 * itself survives a power cut.  A torn or lost write would leave a state
 * whose one-time password the server has retired: the next request would
 * look like a copy of the device, and the server destroys cloned keys. */
static int persist(void *ctx, const uint8_t *state, size_t state_len)
{
    (void)ctx;
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return SK_ERR_INTERNAL;
    size_t off = 0;
    while (off < state_len) {
        ssize_t n = write(fd, state + off, state_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    int ok = off == state_len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp_path, state_path) == 0;
    int dfd = ok ? open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    ok = ok && dfd >= 0 && fsync(dfd) == 0;
    if (dfd >= 0)
        close(dfd);
    if (!ok) {
        fprintf(stderr, "device-app: cannot store %s: %s\n", state_path, strerror(errno));
        unlink(tmp_path);
        return SK_ERR_INTERNAL; /* the layer stops before sending anything */
    }
    return SK_OK;
}

static uint64_t now(void *ctx)
{
    (void)ctx;
    return (uint64_t)time(NULL);
}

/* Reads a whole file (at most max bytes); 0 or -1. */
static int read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *buf = f ? malloc(max + 1) : NULL;
    *len = *buf ? fread(*buf, 1, max + 1, f) : 0;
    int ok = *buf != NULL && !ferror(f) && *len <= max;
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "device-app: cannot read %s\n", path);
        free(*buf);
        *buf = NULL;
    }
    return ok ? 0 : -1;
}

/* The storage key, STATE.key: made at the first enrolment from the kernel's
 * random generator, mode 0600.  The open file is also locked for the whole
 * run (flock), so two runs never use one state at once: both would spend the
 * same one-time password and the server would take the second for a clone. */
static int storage_key(uint8_t key[SK_STORAGE_KEY_LEN], int create)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.key", state_path);
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        fprintf(stderr, "device-app: %s: %s\n", path, strerror(errno));
        return -1; /* the descriptor stays open (and locked) until exit */
    }
    ssize_t n = read(fd, key, SK_STORAGE_KEY_LEN);
    if (n == 0 && create) { /* new: fill it */
        n = getrandom(key, SK_STORAGE_KEY_LEN, 0);
        if (n != (ssize_t)SK_STORAGE_KEY_LEN || write(fd, key, SK_STORAGE_KEY_LEN) != n || fsync(fd) != 0)
            n = -1;
    }
    if (n != (ssize_t)SK_STORAGE_KEY_LEN) {
        fprintf(stderr, "device-app: %s: not a storage key\n", path);
        return -1;
    }
    return 0;
}

/* The PIN: the first line of a file ("-" for standard input). */
static int read_pin(const char *path, uint8_t pin[SK_PIN_MAX + 2], size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = f ? fgets((char *)pin, SK_PIN_MAX + 2, f) : NULL;
    if (f != NULL && f != stdin)
        fclose(f);
    *len = line ? strcspn(line, "\r\n") : 0;
    if (*len == 0 || *len > SK_PIN_MAX) {
        fprintf(stderr, "device-app: %s: no PIN in its first line\n", path);
        return -1;
    }
    return 0;
}

/* server.pub, written by `splitkey-server init`: "name: value" lines, '#'
 * comments, "format: splitkey-server-pub-1", then the two keys in hex:
 * "kx-x25519: <64 hex>" and "sign-ed25519: <64 hex>".  The library wants
 * them side by side: X25519 key || Ed25519 key (SK_SERVER_PUB_LEN). */
static int load_server_pub(const char *path, uint8_t pub[SK_SERVER_PUB_LEN])
{
    uint8_t *text;
    size_t len;
    if (read_file(path, 4096, &text, &len) != 0)
        return -1;
    text[len] = '\0';
    int format = 0, have = 0;
    for (char *save = NULL, *l = strtok_r((char *)text, "\r\n", &save); l != NULL;
         l = strtok_r(NULL, "\r\n", &save)) {
        char hex[65];
        unsigned off = 99;
        if (strcmp(l, "format: splitkey-server-pub-1") == 0)
            format = 1;
        else if (sscanf(l, "kx-x25519: %64[0-9a-f]", hex) == 1)
            off = 0;
        else if (sscanf(l, "sign-ed25519: %64[0-9a-f]", hex) == 1)
            off = 32;
        if (off == 99 || strlen(hex) != 64)
            continue;
        for (unsigned i = 0; i < 32; i++) {
            unsigned b;
            sscanf(hex + 2 * i, "%2x", &b);
            pub[off + i] = (uint8_t)b;
        }
        have |= off ? 2 : 1;
    }
    free(text);
    if (!format || have != 3)
        fprintf(stderr, "device-app: %s: not a splitkey server.pub file\n", path);
    return format && have == 3 ? 0 : -1;
}

/* ------------------------------------------------------------ the commands */

typedef struct opts {
    const char *cmd, *server, *server_pub, *state, *pin_file, *purpose, *profile, *token_file,
        *subject, *pub_out, *in, *out, *wait;
} opts;

/* Says what went wrong, with what the server reported about the key. */
static int report(const char *what, int rc, const sk_key_status *st)
{
    if (rc == APP_ERR_NET) {
        fprintf(stderr, "device-app: %s: %s\n", what, net_err);
        return 1;
    }
    fprintf(stderr, "device-app: %s: %s", what, sk_strerror(rc));
    if (rc == SK_ERR_WRONG_PIN && st != NULL)
        fprintf(stderr, " (%u attempts left)", (unsigned)st->attempts_left);
    fprintf(stderr, "\n");
    return rc == SK_ERR_WRONG_PIN ? 3 : rc == SK_ERR_LOCKED ? 4 : rc == SK_ERR_DESTROYED ? 5 : 1;
}

/* The first signature of a new key proves to the server that this device
 * holds the key (the server keeps the key PENDING until then). */
static int proof_of_possession(sk_client *c, const uint8_t *pin, size_t pin_len)
{
    uint8_t data[64] = "device-app proof of possession:", digest[32], sig[SK_MAX_SIG_LEN];
    size_t off = strlen((char *)data), sig_len;
    sk_key_status st = {0};
    int rc = sk_device_key_id(sk_client_key(c), data + off, SK_KEY_ID_LEN);
    if (rc == SK_OK)
        rc = sk_digest(digest, sizeof digest, SK_HASH_SHA256, data, off + SK_KEY_ID_LEN);
    if (rc == SK_OK)
        rc = sk_client_sign(c, digest, sizeof digest, SK_HASH_SHA256, SK_SCHEME_PKCS1,
                            "Enrolment: proof of possession", pin, pin_len, sig, sizeof sig,
                            &sig_len, NULL, &st);
    return rc == SK_OK ? 0 : report("proof of possession", rc, &st);
}

static int cmd_enrol(sk_client *c, const opts *o, const uint8_t *pin, size_t pin_len)
{
    sk_client_enrol_options eo = {.pin = pin, .pin_len = pin_len, .kdf_cost = SK_KDF_INTERACTIVE,
                                  .purpose = SK_PURPOSE_SIGN, .profile = SK_PROFILE_6K,
                                  .subject = o->subject};
    uint8_t spub[SK_SERVER_PUB_LEN], *token = NULL;
    size_t token_len;
    int rc = 0;
    if (sk_client_key(c) == NULL) { /* a new key */
        if (o->purpose != NULL && strcmp(o->purpose, "auth") == 0)
            eo.purpose = SK_PURPOSE_AUTH;
        if (o->profile != NULL && sk_profile_parse(&eo.profile, o->profile) != SK_OK)
            return 2;
        if (o->server_pub == NULL || load_server_pub(o->server_pub, spub) != 0)
            return 2;
        eo.server_pub = spub;
        eo.server_pub_len = sizeof spub;
        /* a registration token is secret until used: from a file, too */
        if (o->token_file != NULL) {
            if (read_file(o->token_file, SK_MAX_TOKEN_LEN, &token, &token_len) != 0)
                return 2;
            token[token_len] = '\0';
            token[strcspn((char *)token, "\r\n")] = '\0';
            eo.token = (const char *)token;
        }
        printf("enrolling a %s key at %s\n", eo.purpose == SK_PURPOSE_SIGN ? "sign" : "auth",
               o->server);
        fflush(stdout);
        rc = sk_client_enrol(c, &eo);
        if (token != NULL) {
            sk_wipe(token, token_len);
            free(token);
        }
        if (rc != SK_OK)
            return report("enrolment", rc, NULL);
    } else if (sk_device_key_state(sk_client_key(c)) != SK_KEY_PENDING) {
        fprintf(stderr, "device-app: %s already holds an enrolled key\n", state_path);
        return 1;
    }
    /* the key is stored (PENDING); an interrupted run finishes it here */
    if ((rc = proof_of_possession(c, pin, pin_len)) != 0)
        return rc;
    uint8_t id[SK_KEY_ID_LEN];
    if (sk_device_key_id(sk_client_key(c), id, sizeof id) == SK_OK) {
        printf("enrolled; key id ");
        for (size_t i = 0; i < sizeof id; i++)
            printf("%02x", id[i]);
        printf(", subject %s, active\n", sk_device_key_subject(sk_client_key(c)));
    }
    if (o->pub_out != NULL) { /* the public key, for whoever verifies */
        sk_pubkey *pk = NULL;
        char pem[4096];
        size_t n = 0;
        FILE *f = NULL;
        rc = sk_device_key_pubkey(sk_client_key(c), &pk);
        if (rc == SK_OK)
            rc = sk_pubkey_export_pem(pk, pem, sizeof pem, &n);
        sk_pubkey_free(pk);
        if (rc != SK_OK || (f = fopen(o->pub_out, "w")) == NULL || fputs(pem, f) < 0 ||
            fclose(f) != 0)
            return report("public key", rc != SK_OK ? rc : SK_ERR_INTERNAL, NULL);
    }
    return 0;
}

static int cmd_approve(sk_client *c, const opts *o, const uint8_t *pin, size_t pin_len)
{
    sk_device_session *list[SK_MAX_FETCH_SESSIONS];
    size_t n = 0;
    sk_key_status st = {0};
    int rc, wait = o->wait ? atoi(o->wait) : 0;
    /* ask for the waiting sessions, every half second up to --wait seconds
     * (a real app would do this when a push notification arrives) */
    for (int tries = 0;; tries++) {
        if ((rc = sk_client_fetch(c, list, SK_MAX_FETCH_SESSIONS, &n, &st)) != SK_OK)
            return report("fetch", rc, &st);
        if (n > 0 || tries >= 2 * wait)
            break;
        usleep(500000);
    }
    if (n == 0) {
        fprintf(stderr, "device-app: no session is waiting\n");
        return 1;
    }
    /* Show what is asked before the PIN is used: who asks, what for, and
     * the verification code, which the person compares with the one the
     * relying party shows. */
    const char *rp = sk_device_session_rp_name(list[0]);
    printf("%s asks: \"%s\"\nverification code: %s\n", rp[0] ? rp : "a relying party",
           sk_device_session_display_text(list[0]), sk_device_session_code(list[0]));
    fflush(stdout);
    /* A session whose interaction needs the person's pick of a code or
     * confirmation of a message (doc/device.md, "Interactions") is left
     * waiting: an unattended example cannot give either. */
    sk_interaction in = sk_device_session_interaction(list[0]);
    if (in != SK_INTERACTION_DISPLAY_TEXT_AND_PIN) {
        fprintf(stderr, "device-app: this session asks the person to pick a verification code "
                        "or to confirm a message (interaction %d); this example approves only "
                        "displayTextAndPIN sessions\n", (int)in);
        for (size_t i = 0; i < n; i++)
            sk_device_session_free(list[i]);
        return 1;
    }
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    rc = sk_client_approve(c, list[0], pin, pin_len, sig, sizeof sig, &sig_len, &st);
    for (size_t i = 0; i < n; i++)
        sk_device_session_free(list[i]);
    if (rc != SK_OK)
        return report("approval", rc, &st);
    printf("approved: the relying party gets its signature\n");
    return 0;
}

static int cmd_sign(sk_client *c, const opts *o, const uint8_t *pin, size_t pin_len)
{
    uint8_t *data, digest[32], sig[SK_MAX_SIG_LEN];
    size_t len, sig_len = 0;
    char code[5], text[SK_MAX_DISPLAY_TEXT_LEN];
    sk_key_status st = {0};
    if (o->in == NULL || o->out == NULL || read_file(o->in, MAX_INPUT, &data, &len) != 0)
        return 2;
    int rc = sk_digest(digest, sizeof digest, SK_HASH_SHA256, data, len);
    free(data);
    /* the display text the server records with the session */
    snprintf(text, sizeof text, "Signed on this device: %.200s", o->in);
    if (rc == SK_OK)
        rc = sk_client_sign(c, digest, sizeof digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, text, pin,
                            pin_len, sig, sizeof sig, &sig_len, code, &st);
    if (rc != SK_OK)
        return report("signature", rc, &st);
    /* the signature is already verified under the key's public key */
    FILE *f = fopen(o->out, "wb");
    if (f == NULL || fwrite(sig, 1, sig_len, f) != sig_len || fclose(f) != 0) {
        fprintf(stderr, "device-app: cannot write %s\n", o->out);
        return 1;
    }
    printf("signed %s (RSASSA-PKCS1-v1_5, SHA-256; verification code %s)\n", o->in, code);
    return 0;
}

static int cmd_status(sk_client *c)
{
    static const char *names[] = {"?", "ENROLLING", "PENDING", "ACTIVE", "TIMELOCKED",
                                  "DESTROYED"};
    sk_key_status st = {0};
    int rc = sk_client_key_state(c, &st);
    if (rc != SK_OK && rc != SK_ERR_LOCKED && rc != SK_ERR_DESTROYED)
        return report("status", rc, &st);
    printf("state: %s\nattempts left: %u\n", names[st.state <= 5 ? st.state : 0],
           (unsigned)st.attempts_left);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: example-device-app enrol|approve|sign|status --server URL --state FILE"
                    " [--pin-file F] [options]\n(the options of each command are listed at the"
                    " top of examples/device_app.c)\n");
    return 2;
}

int main(int argc, char **argv)
{
    opts o = {0};
    if (argc < 2)
        return usage();
    o.cmd = argv[1];
    for (int i = 2; i < argc; i += 2) {
        static const char *names[] = {"server", "server-pub", "state", "pin-file", "purpose",
                                      "profile", "token-file", "subject", "pub-out", "in", "out",
                                      "wait"};
        const char **slots[] = {&o.server, &o.server_pub, &o.state,      &o.pin_file,
                                &o.purpose, &o.profile,   &o.token_file, &o.subject,
                                &o.pub_out, &o.in,        &o.out,        &o.wait};
        size_t k = 0;
        while (k < 12 && (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i] + 2, names[k]) != 0))
            k++;
        if (k == 12 || i + 1 >= argc)
            return usage();
        *slots[k] = argv[i + 1];
    }
    int enrol = strcmp(o.cmd, "enrol") == 0, status = strcmp(o.cmd, "status") == 0;
    if ((!enrol && !status && strcmp(o.cmd, "approve") != 0 && strcmp(o.cmd, "sign") != 0) ||
        o.server == NULL || o.state == NULL || (!status && o.pin_file == NULL))
        return usage();

    /* where the state lives: STATE, STATE.tmp while it is replaced, and the
     * directory whose entry the rename changes */
    state_path = o.state;
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", o.state);
    const char *slash = strrchr(o.state, '/');
    snprintf(dir_path, sizeof dir_path, "%.*s", slash ? (int)(slash - o.state) + 1 : 1,
             slash ? o.state : ".");

    uint8_t pin[SK_PIN_MAX + 2], skey[SK_STORAGE_KEY_LEN], *blob = NULL;
    size_t pin_len = 0, blob_len = 0;
    nng_socket sock = NNG_SOCKET_INITIALIZER;
    sk_client *c = NULL;
    int have_state = access(o.state, F_OK) == 0, code = 1, rc;
    if (o.pin_file != NULL && read_pin(o.pin_file, pin, &pin_len) != 0) {
        sk_wipe(pin, sizeof pin);
        return 2;
    }
    if (!have_state && !enrol) {
        fprintf(stderr, "device-app: %s: no state (enrol a key first)\n", o.state);
        goto out;
    }
    if (sk_init() != SK_OK || storage_key(skey, enrol) != 0)
        goto out;
    if (connect_server(&sock, o.server) != 0)
        goto out;
    sk_client_io io = {exchange, persist, now, &sock, RETRIES};
    rc = sk_client_new(&c, &io, skey, sizeof skey);
    sk_wipe(skey, sizeof skey); /* the client has its own copy */
    if (rc != SK_OK) {
        report("start", rc, NULL);
        goto out;
    }

    /* Every run starts from the stored state, and first finishes whatever
     * request an earlier run left in flight (it crashed, or lost its
     * connection): the same request again, which the server answers from
     * what it stored.  Only then may a new request be made. */
    if (have_state) {
        if (read_file(o.state, SK_MAX_MESSAGE_LEN, &blob, &blob_len) != 0)
            goto out;
        rc = sk_client_load(c, blob, blob_len);
        free(blob);
        if (rc != SK_OK) {
            report(o.state, rc, NULL);
            goto out;
        }
        sk_client_resumed res;
        if (sk_client_pending(c) != SK_CLIENT_REQ_NONE) {
            printf("finishing the request an earlier run left in flight\n");
            rc = sk_client_resume(c, pin_len ? pin : NULL, pin_len, &res);
            if (rc == SK_ERR_ARG && pin_len == 0)
                fprintf(stderr, "device-app: an approval is in flight: give --pin-file\n");
            if (rc != SK_OK) {
                code = report("resume", rc, NULL);
                goto out;
            }
            static const char *kinds[] = {"request", "approval", "revocation",
                                          "one-time password refresh", "fetch",
                                          "session creation", "refusal", "key state request"};
            printf("the earlier %s finished: %s\n", kinds[res.request <= 7 ? res.request : 0],
                   res.result == SK_OK ? "done" : sk_strerror(res.result));
        }
    }
    code = enrol    ? cmd_enrol(c, &o, pin, pin_len)
           : status ? cmd_status(c)
           : o.cmd[0] == 'a' ? cmd_approve(c, &o, pin, pin_len)
                             : cmd_sign(c, &o, pin, pin_len);
out:
    sk_wipe(pin, sizeof pin);
    sk_client_free(c); /* wipes the key and the storage key */
    if (nng_socket_id(sock) > 0)
        nng_close(sock);
    return code;
}
