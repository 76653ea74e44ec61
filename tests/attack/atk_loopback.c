/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atk_loopback - attacks on a running splitkey-server over loopback: many
 * connections, several server processes on one database, and the store's
 * compare-and-swap.  The attacker holds the device state (copies of it)
 * and, for the rollback, write access to the SQLite database; it never
 * holds the server's master key.  Run by loopback.sh, which starts the
 * servers; every mode asserts that its attack fails (or, where
 * doc/security.md states a limit, exactly how far the attack gets).
 *
 *   atk_loopback --server URL --server-pub FILE [options] MODE
 *
 * Modes:
 *   guesses    (a server with one-second locks) the same charged approval
 *              (one request id and OTP) from --threads connections at once,
 *              each with another PIN guess, while --floods relying parties
 *              read the key's state without pause: every reply of a
 *              round reveals the same outcome, attempts left go down by one
 *              per round, the key locks at 3 and 6 and is destroyed at the
 *              9th; no round checks twice, and a charge with the right PIN
 *              among the guesses is one check too.
 *   locked     (default locks) three rounds lock the key for hours; a round
 *              while locked, the right PIN among its guesses, runs no check.
 *   clones     copies of one state each make their own approval (their own
 *              request ids under one OTP) at once: at most one PIN outcome,
 *              every other reply a clone verdict or DESTROYED, the key
 *              destroyed as cloned.
 *   clone-any  a copy signs with its clock far off; the original's next
 *              request of any kind (KeyState, fetch, sign) is the verdict.
 *   rollback   (--db, --state DIR, --peer URL of a second server on the same
 *              database) an old key row put back while the server runs:
 *              refused, nothing stored, the failure count not reset; and the
 *              same row served by the peer process, which never saw the key.
 *   rollback-restart  (--state) after a restart with the old row put back:
 *              how far the attacker's copy of the matching device state gets.
 *   rollback-honest   (--state) the honest device's next request afterwards.
 *
 * How the key's state is observed.  A relying party learns a key's state
 * (attempts left, locked until, destroyed and why) only through the share
 * server's session logic: the HTTPS API reads it with sk_share_handle_rp's
 * KeyState before every create (a certificate choice reads the key's state
 * and certificate and asks no device), and the old "SKP1" frames on the
 * device socket are refused unread (SK_SVC_ERR_RP_REFUSED).  So the
 * observer here is that same KeyState run in this process on the servers'
 * database (--store URI, or --db PATH as sqlite:PATH) with the master key
 * of a server directory (--srv-dir DIR): it reads the committed key row
 * exactly as a server answering the API does, racing the servers' own
 * transactions, and it writes nothing (no clean-up falls due in it, it
 * keeps no rollback marks; the rollback mode checks that the rolled-back
 * row's version did not move while it was read).  The floods ask it
 * without pause during a round, so the assertion that no reader ever sees
 * two charges of one round is made on every read of the store; each flood
 * also keeps its own connection to the servers busy with the old
 * relying-party KeyState frame, all the relying-party traffic the device
 * socket still gets: the refusals and any answers are counted on the
 * round's line ("old frames: R refused, S served"), and loopback.sh and
 * pg_servers.sh check that their servers served none.  (An answer, from a
 * server that served such frames, would be checked like the observer's
 * view.)
 * With --certchoice PROG as many more relying parties make certificate
 * choices for the key's person at a server's HTTPS API without pause (PROG
 * PERSON NONCE: one create, its HTTP status printed; loopback.sh uses curl):
 * the server itself reads the key for each while the guesses race, and
 * every answer must fit the round: 200 while the key is active, 472 only
 * when this round's charge locked it, 404 only when it destroyed it (in the
 * locked mode's last round 472 only; with clones 200 or 404), nothing else
 * but no answer at all (580: the store busy).  A create through curl is
 * slower than a round, so a round sees one or two per thread, answered
 * around the charge.
 *
 * Options: --threads N (6), --floods M (2), --timeout MS (per call, 60000),
 * --db PATH, --state DIR, --peer URL, --srv-dir DIR and --store URI (the
 * observer, which every mode needs), --certchoice PROG.  With --peer, the guesses, locked and
 * clones modes send every other connection's request to the peer (a second
 * server on the same database: the attack spread over two processes).
 * --spread URL,URL... (guesses): the connections of a round - shots and
 * floods - go to these servers in turn, for several server processes on one
 * database; enrolment stays on --server.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "devdrive.h"
#include "fileio.h"
#include "handler.h"
#include "identity.h"
#include "seal.h"
#include "store.h"
#include "svc_error.h"
#include "splitkey/device.h"
#include "splitkey/key.h"
#include "splitkey/rp.h"
#include "splitkey/server.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "testutil.h"

#define MAX_THREADS 32
#define MAX_FLOODS 8
#define MAX_SENDS 400 /* a request without a protocol reply is sent again */
#define WRONG_PIN_BASE 10000
#define KEYID_HEX (2 * SK_KEY_ID_LEN + 1)
#define YEAR (365LL * 86400)

/* The answers to a certificate choice (--certchoice): 200 (the key
 * active), 472 (locked), 404 (destroyed: no usable key), none (no answer,
 * or 580: the store busy), anything else. */
enum { CC_OK, CC_LOCKED, CC_GONE, CC_NONE, CC_OTHER, CC_N };

static sk_dev_config cfg = {.profile = SK_PROFILE_4K, .scheme = SK_SCHEME_PKCS1,
                            .hash = SK_HASH_SHA256, .timeout_ms = 60000, .give_up_s = 600};
static struct {
    const char *peer, *db, *state, *srv_dir, *store, *certchoice;
    unsigned threads, floods;
    unsigned nspread;
    sk_dev_config spread[MAX_THREADS]; /* --spread: cfg with each server's URL */
} opt = {.threads = 6, .floods = 2};

/* The storage key the attacker's copies of the device state are sealed
 * with (a test value: the attacker copies the phone's storage). */
static const uint8_t storage_key[SK_STORAGE_KEY_LEN] = {0x5a, 0x17};
static unsigned enrolled;
static unsigned rounds, choices_answered; /* rounds run, their answered certificate choices */
static char person[64]; /* the person id of the key enrolled last */

static void die(const char *what)
{
    fprintf(stderr, "atk_loopback: %s\n", what);
    exit(2);
}

static void hex(char *out, const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* attempts left after f charged failures under the default policy (locks
 * at 3 and 6, destroyed at 9) */
static uint32_t attempts_after(unsigned f)
{
    return f < 3 ? 3 - f : f < 6 ? 6 - f : f < 9 ? 9 - f : 0;
}

static int is_outcome(int rc)
{
    return rc == SK_OK || rc == SK_ERR_WRONG_PIN;
}

/* ------------------------------------------------------ device and state */

static sk_device_key *copy_state(const sk_device_key *key)
{
    uint8_t sealed[SK_MAX_MESSAGE_LEN];
    size_t len = 0;
    sk_device_key *c = NULL;
    if (sk_device_key_seal(key, sealed, sizeof sealed, &len, storage_key, sizeof storage_key) !=
            SK_OK ||
        sk_device_key_open(&c, sealed, len, storage_key, sizeof storage_key) != SK_OK)
        die("cannot copy the device state");
    sodium_memzero(sealed, sizeof sealed);
    return c;
}

static void open_dev(sk_dev *d, const char *url)
{
    static sk_dev_config peer_cfg;
    const sk_dev_config *c = &cfg;
    if (url != NULL && strcmp(url, cfg.url) != 0) {
        peer_cfg = cfg;
        peer_cfg.url = url;
        c = &peer_cfg;
    }
    if (sk_dev_open(d, c, SK_PURPOSE_SIGN) != SK_OK)
        die("cannot open a connection");
}

/* Connection i of a round: to --spread's server i (in turn), or --server. */
static void open_dev_spread(sk_dev *d, unsigned i)
{
    if (opt.nspread == 0) {
        open_dev(d, NULL);
        return;
    }
    if (sk_dev_open(d, &opt.spread[i % opt.nspread], SK_PURPOSE_SIGN) != SK_OK)
        die("cannot open a connection");
}

static void enrol(sk_dev *d, uint8_t key_id[SK_KEY_ID_LEN], char idhex[KEYID_HEX])
{
    open_dev(d, NULL);
    /* the person id sk_dev_enrol's subject gives the key (SK_DEV_SUBJECT_FMT) */
    snprintf(person, sizeof person, "PNOLV-%06u-%05u", (unsigned)(cfg.run_tag % 1000000u),
             enrolled);
    int rc = sk_dev_enrol(d, enrolled++);
    if (rc != SK_OK) {
        fprintf(stderr, "atk_loopback: enrolment: %s\n", sk_strerror(rc));
        exit(2);
    }
    if (sk_device_key_id(d->key, key_id, SK_KEY_ID_LEN) != SK_OK)
        die("key id");
    hex(idhex, key_id, SK_KEY_ID_LEN);
    printf("key %s\n", idhex);
}

static void digest_of(uint8_t digest[32], const char *text)
{
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)) != SK_OK)
        die("digest");
}

/* A device-initiated session to approve. */
static sk_device_session *new_session(sk_dev *d, const char *text)
{
    uint8_t digest[32];
    sk_device_session *s = NULL;
    digest_of(digest, text);
    int rc = sk_dev_create(d, digest, text, &s, NULL);
    if (rc != SK_OK || s == NULL) {
        fprintf(stderr, "atk_loopback: session: %s\n", sk_strerror(rc));
        exit(2);
    }
    return s;
}

/* ------------------------------------------- the key's state, observed */

/* The observer: the share server's own relying-party KeyState
 * (sk_share_handle_rp, what the HTTPS API's creates read) run in this
 * process on the servers' database (--store) with their directory's master
 * key (--srv-dir).  It reads and never writes: no clean-up is ever due, no
 * rollback marks are kept, no pool, no CA. */
static struct {
    sk_share_server srv;
    sk_master_key *master;
    sk_server_identity *identity;
    sk_server_ident *ident;
} obs;

static void observer_open(const char *dir, const char *uri)
{
    char err[512] = "";
    char *mk = sk_path_join(dir, SK_SERVER_FILE_MASTER);
    if (mk == NULL || sk_master_key_load(&obs.master, mk) != SK_OK)
        die("cannot load the master key (--srv-dir)");
    free(mk);
    if (sk_server_identity_load(&obs.identity, dir, err, sizeof err) != SK_OK ||
        sk_share_ident_load(&obs.ident, obs.identity) != SK_OK) {
        fprintf(stderr, "atk_loopback: --srv-dir %s: %s\n", dir, err);
        exit(2);
    }
    sk_store *store = NULL;
    if (sk_store_open(&store, uri) != SK_OK)
        die("cannot open the store (--store)");
    sk_store_set_connections(store, MAX_FLOODS + 2);
    obs.srv.store = store;
    obs.srv.master = obs.master;
    obs.srv.ident = obs.ident;
    obs.srv.cleanup_every_s = UINT_MAX;
    atomic_store(&obs.srv.last_cleanup, (uint_least64_t)time(NULL));
}

static void observer_close(void)
{
    if (obs.srv.store != NULL)
        sk_store_close(obs.srv.store);
    sk_server_ident_free(obs.ident);
    sk_server_identity_free(obs.identity);
    sk_master_key_free(obs.master);
    memset(&obs, 0, sizeof obs);
}

/* The relying-party KeyState of key_id as the share server reports it,
 * read once from the store.  SK_OK and *st, or the error (SK_ERR_STORE_BUSY
 * under load: ask again). */
static int rp_state(const uint8_t *key_id, sk_key_status *st)
{
    uint8_t msg[128], *rep = NULL;
    size_t n = 0, rl = 0;
    memset(st, 0, sizeof *st);
    if (obs.srv.store == NULL)
        die("the key's state needs --srv-dir and --store (or --db)");
    int rc = sk_rp_key_state_request(msg, sizeof msg, &n, key_id, SK_KEY_ID_LEN);
    if (rc == SK_OK)
        rc = sk_share_handle_rp(&obs.srv, msg, n, &rep, &rl);
    if (rep != NULL)
        rc = sk_rp_read_key_state(st, rep, rl);
    free(rep);
    return rc;
}

static sk_key_status must_state(const uint8_t *key_id)
{
    sk_key_status st;
    int rc;
    for (unsigned i = 0; (rc = rp_state(key_id, &st)) == SK_ERR_STORE_BUSY && i < MAX_SENDS; i++)
        sleep_ms(20);
    if (rc != SK_OK) {
        fprintf(stderr, "atk_loopback: KeyState: %s\n", sk_strerror(rc));
        exit(2);
    }
    return st;
}

/* Waits (polling the observer) until a lock has run out. */
static sk_key_status wait_unlocked(const uint8_t *key_id)
{
    sk_key_status st = must_state(key_id);
    for (unsigned i = 0; st.state == SK_KEY_TIMELOCKED && i < 6000; i++) {
        sleep_ms(100);
        st = must_state(key_id);
    }
    return st;
}

/* One device request built in d->msg, sent until a protocol reply comes
 * (the store may answer "busy" under load), the reply in *rep (free with
 * sk_dev_free_reply).  Returns SK_OK or the last service error. */
static int send_until_reply(sk_dev *d, const char *pin, uint8_t **rep, size_t *rl,
                            unsigned *sends)
{
    int rc = SK_SVC_ERR_TRANSPORT;
    for (unsigned i = 0; i < MAX_SENDS; i++) {
        rc = sk_dev_xcall(d, "SKD1", d->msg, d->msg_len, rep, rl);
        if (sends != NULL)
            (*sends)++;
        if (rc == SK_OK)
            return SK_OK;
        /* no protocol reply: the same request (id, OTP) again */
        int brc = sk_device_retry(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d),
                                  (const uint8_t *)pin, pin ? strlen(pin) : 0);
        if (brc != SK_OK)
            return brc;
    }
    return rc;
}

/* ------------------------------------------------- the database (SQLite) */

typedef struct row {
    uint8_t *blob;
    size_t len;
    long long version, state;
} row;

static sqlite3 *db_open(void)
{
    sqlite3 *db = NULL;
    if (opt.db == NULL || sqlite3_open_v2(opt.db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("cannot open the database (--db)");
    sqlite3_busy_timeout(db, 600000);
    return db;
}

static void db_get(const uint8_t *key_id, row *r)
{
    sqlite3 *db = db_open();
    sqlite3_stmt *st = NULL;
    memset(r, 0, sizeof *r);
    if (sqlite3_prepare_v2(db, "SELECT record, version, state FROM keys WHERE key_id = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        die("sqlite prepare");
    sqlite3_bind_blob(st, 1, key_id, SK_KEY_ID_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        die("the key row is missing");
    r->len = (size_t)sqlite3_column_bytes(st, 0);
    r->blob = malloc(r->len ? r->len : 1);
    if (r->blob == NULL)
        die("out of memory");
    memcpy(r->blob, sqlite3_column_blob(st, 0), r->len);
    r->version = sqlite3_column_int64(st, 1);
    r->state = sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Puts a saved row back, as a writer of the database can. */
static void db_put(const uint8_t *key_id, const row *r)
{
    sqlite3 *db = db_open();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE keys SET record = ?1, version = ?2, state = ?3 WHERE key_id = ?4",
                           -1, &st, NULL) != SQLITE_OK)
        die("sqlite prepare");
    sqlite3_bind_blob(st, 1, r->blob, (int)r->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite3_bind_int64(st, 3, r->state);
    sqlite3_bind_blob(st, 4, key_id, SK_KEY_ID_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1)
        die("sqlite update");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static long long db_count(const char *sql, const uint8_t *key_id)
{
    sqlite3 *db = db_open();
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die("sqlite prepare");
    sqlite3_bind_blob(st, 1, key_id, SK_KEY_ID_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static long long wrong_pin_events(const uint8_t *key_id)
{
    return db_count("SELECT count(*) FROM events WHERE kind = 6 AND key_id = ?1", key_id);
}

static long long db_version(const uint8_t *key_id)
{
    return db_count("SELECT version FROM keys WHERE key_id = ?1", key_id);
}

static void row_free(row *r)
{
    free(r->blob);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------ concurrent rounds */

/* One attacker connection of a round. */
typedef struct shot {
    pthread_t thread;
    sk_dev d;                    /* its own connection; d.key: a copy of the state */
    const sk_device_session *s;  /* for a fresh approval */
    int fresh;                   /* 1: its own approval (own request id); 0: the copied one */
    char pin[8];
    pthread_barrier_t *go;
    int rc;                      /* the reply's result; SK_ERR_INTERNAL: none read */
    int read;                    /* a protocol reply was read */
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len;
    unsigned sends;
} shot;

static void *shot_main(void *arg)
{
    shot *t = arg;
    sk_dev *d = &t->d;
    const uint8_t *pin = (const uint8_t *)t->pin;
    int rc = t->fresh ? sk_device_approve(d->key, d->msg, sizeof d->msg, &d->msg_len,
                                          sk_dev_now(d), t->s, pin, strlen(t->pin))
                      : sk_device_retry(d->key, d->msg, sizeof d->msg, &d->msg_len,
                                        sk_dev_now(d), pin, strlen(t->pin));
    t->rc = SK_ERR_INTERNAL;
    pthread_barrier_wait(t->go);
    if (rc != SK_OK) {
        t->rc = rc;
        return NULL;
    }
    uint8_t *rep = NULL;
    size_t rl = 0;
    rc = send_until_reply(d, t->pin, &rep, &rl, &t->sends);
    if (rc == SK_OK) {
        memset(&t->st, 0, sizeof t->st);
        t->rc = sk_device_read_signature(d->key, t->sig, sizeof t->sig, &t->sig_len, &t->st, rep,
                                         rl);
        t->read = t->rc != SK_ERR_PROTO_AUTH && t->rc != SK_ERR_PROTO_DECODE &&
                  t->rc != SK_ERR_PROTO_STATE;
        sk_dev_free_reply(rep, rl);
    } else {
        t->rc = rc;
    }
    sodium_memzero(d->msg, sizeof d->msg);
    return NULL;
}

/* A relying party's view of the key without pause during a round: the
 * share server's KeyState read from the store (the observer), and, on its
 * own connection to the servers, the old relying-party KeyState frame,
 * which a server refuses unread (were it answered, the answer would be one
 * more view).  The views counted by (state, attempts
 * left). */
typedef struct flood {
    pthread_t thread;
    sk_dev d;
    const uint8_t *key_id;
    atomic_int *stop;
    unsigned seen[6][10];
    unsigned reason[5];
    unsigned asked, errors; /* errors: replies that make no sense */
    unsigned refused, served; /* old frames refused (SK_SVC_ERR_RP_REFUSED), answered */
    int choices;              /* 1: this one makes certificate choices only */
    unsigned cc[CC_N];        /* certificate choices by answer (--certchoice) */
} flood;

/* A certificate-choice create for the person of the key, at a server's
 * relying-party API (--certchoice PROG: PROG PERSON NONCE prints the HTTP
 * status; a fresh nonce, so that no create is an idempotent repeat of an
 * earlier one and its answer stale): the answer as a CC_ index. */
static int certchoice(void)
{
    char cmd[8192], out[16] = "";
    uint8_t rnd[12];
    char nonce[2 * sizeof rnd + 1];
    randombytes_buf(rnd, sizeof rnd);
    hex(nonce, rnd, sizeof rnd);
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", opt.certchoice, person, nonce);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return CC_NONE;
    if (fgets(out, sizeof out, p) == NULL)
        out[0] = '\0';
    pclose(p);
    int status = atoi(out);
    return status == 200   ? CC_OK
           : status == 472 ? CC_LOCKED
           : status == 404 ? CC_GONE
           : status == 0 || status == 580 ? CC_NONE /* no answer, or the store busy */
                                          : CC_OTHER;
}

/* One view of the key: rc and *st of a KeyState. */
static void flood_count(flood *f, int rc, const sk_key_status *st)
{
    if (rc == SK_ERR_PROTO_DECODE)
        f->errors++; /* a reply that is no KeyState */
    if (rc != SK_OK)
        return;      /* or none (the store busy): ask again */
    if ((unsigned)st->state < 6 && st->attempts_left < 10)
        f->seen[st->state][st->attempts_left]++;
    else
        f->errors++;
    if ((unsigned)st->destroy_reason < 5)
        f->reason[st->destroy_reason]++;
}

static void *flood_main(void *arg)
{
    flood *f = arg;
    uint8_t msg[128], *rep = NULL;
    size_t n = 0, rl = 0;
    if (sk_rp_key_state_request(msg, sizeof msg, &n, f->key_id, SK_KEY_ID_LEN) != SK_OK)
        die("KeyState request");
    while (f->choices && !atomic_load(f->stop))
        f->cc[certchoice()]++;
    while (!f->choices && !atomic_load(f->stop)) {
        sk_key_status st;
        f->asked++;
        int rc = sk_dev_xcall(&f->d, "SKP1", msg, n, &rep, &rl);
        if (rc == SK_SVC_ERR_RP_REFUSED) {
            f->refused++;
        } else if (rc == SK_OK) {
            f->served++;
            memset(&st, 0, sizeof st);
            flood_count(f, sk_rp_read_key_state(&st, rep, rl), &st);
        }
        sk_dev_free_reply(rep, rl);
        rep = NULL;
        rc = rp_state(f->key_id, &st);
        flood_count(f, rc, &st);
    }
    return NULL;
}

/* What the relying parties saw in a round, merged. */
typedef struct seen {
    unsigned n[6][10], reason[5], asked, errors, refused, served, cc[CC_N];
} seen;

/* Runs n shots at once (their d.key set) with opt.floods relying parties
 * asking key_id's state alongside; fills *sn. */
static void run_round(shot *shots, unsigned n, const uint8_t *key_id, seen *sn)
{
    pthread_barrier_t go;
    atomic_int stop;
    flood floods[2 * MAX_FLOODS];
    /* the readers, and as many making certificate choices (--certchoice) */
    unsigned nf = opt.certchoice != NULL ? 2 * opt.floods : opt.floods;
    atomic_init(&stop, 0);
    memset(sn, 0, sizeof *sn);
    pthread_barrier_init(&go, NULL, n);
    for (unsigned i = 0; i < nf; i++) {
        memset(&floods[i], 0, sizeof floods[i]);
        floods[i].choices = i >= opt.floods;
        if (!floods[i].choices)
            open_dev_spread(&floods[i].d, i + 1);
        floods[i].key_id = key_id;
        floods[i].stop = &stop;
        if (pthread_create(&floods[i].thread, NULL, flood_main, &floods[i]) != 0)
            die("cannot start a thread");
    }
    for (unsigned i = 0; i < n; i++) {
        shots[i].go = &go;
        if (pthread_create(&shots[i].thread, NULL, shot_main, &shots[i]) != 0)
            die("cannot start a thread");
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(shots[i].thread, NULL);
    atomic_store(&stop, 1);
    for (unsigned i = 0; i < nf; i++) {
        pthread_join(floods[i].thread, NULL);
        for (int a = 0; a < 6; a++)
            for (int b = 0; b < 10; b++)
                sn->n[a][b] += floods[i].seen[a][b];
        for (int r = 0; r < 5; r++)
            sn->reason[r] += floods[i].reason[r];
        sn->asked += floods[i].asked;
        sn->errors += floods[i].errors;
        sn->refused += floods[i].refused;
        sn->served += floods[i].served;
        for (int c = 0; c < CC_N; c++)
            sn->cc[c] += floods[i].cc[c];
        choices_answered += floods[i].cc[CC_OK] + floods[i].cc[CC_LOCKED] + floods[i].cc[CC_GONE];
        sk_dev_close(&floods[i].d);
    }
    pthread_barrier_destroy(&go);
    rounds++;
}

/* Whether the relying parties saw only attempts-left values in allowed
 * (a bit per value), and DESTROYED only when destroyed_ok. */
static int seen_only(const seen *sn, unsigned allowed, int destroyed_ok)
{
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 10; b++) {
            if (sn->n[a][b] == 0)
                continue;
            if (a == SK_KEY_DESTROYED ? !destroyed_ok : !(allowed & (1u << b)))
                return 0;
        }
    return sn->errors == 0;
}

/* Whether the certificate choices of a round were answered only as allowed:
 * 200 with ok, 472 with locked, 404 with gone; never anything else. */
static int choices_only(const seen *sn, int ok, int locked, int gone)
{
    return (ok || sn->cc[CC_OK] == 0) && (locked || sn->cc[CC_LOCKED] == 0) &&
           (gone || sn->cc[CC_GONE] == 0) && sn->cc[CC_OTHER] == 0;
}

static void close_shots(shot *shots, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sk_dev_close(&shots[i].d);
}

/* The shots of a round that all send the request in flight in key (same
 * request id and OTP), shot i with pins[i]. */
static void same_request_shots(shot *shots, unsigned n, const sk_device_key *key,
                               const char pins[][8])
{
    for (unsigned i = 0; i < n; i++) {
        memset(&shots[i], 0, sizeof shots[i]);
        if (opt.nspread > 0)
            open_dev_spread(&shots[i].d, i);
        else
            open_dev(&shots[i].d, i % 2 ? opt.peer : NULL);
        shots[i].d.key = copy_state(key);
        memcpy(shots[i].pin, pins[i], sizeof shots[i].pin);
    }
}

/* Whether every shot read a reply and all replies say the same. */
static int replies_agree(const shot *shots, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!shots[i].read)
            return 0;
        const shot *a = &shots[0], *b = &shots[i];
        if (a->rc != b->rc || a->st.attempts_left != b->st.attempts_left ||
            a->st.locked_until != b->st.locked_until ||
            a->st.destroy_reason != b->st.destroy_reason)
            return 0;
        if (a->rc == SK_OK &&
            (a->sig_len != b->sig_len || memcmp(a->sig, b->sig, a->sig_len) != 0))
            return 0;
    }
    return 1;
}

static void print_round(const char *what, unsigned round, const shot *shots, unsigned n,
                        const seen *sn)
{
    unsigned sends = 0, outcomes = 0;
    for (unsigned i = 0; i < n; i++) {
        sends += shots[i].sends;
        outcomes += is_outcome(shots[i].rc);
    }
    printf("%s %u: %u connections, %u sends, %u replies with a PIN outcome; first: %s, "
           "attempts left %u, locked until %llu; KeyState asked %u times (old frames: %u refused, "
           "%u served), attempts seen",
           what, round, n, sends, outcomes, sk_strerror(shots[0].rc), shots[0].st.attempts_left,
           (unsigned long long)shots[0].st.locked_until, sn->asked, sn->refused, sn->served);
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 10; b++)
            if (sn->n[a][b])
                printf(" %s%d", a == SK_KEY_DESTROYED ? "D" : a == SK_KEY_TIMELOCKED ? "L" : "",
                       b);
    if (opt.certchoice != NULL)
        printf("; certificate choices: %u 200, %u 472, %u 404, %u unanswered, %u other",
               sn->cc[CC_OK], sn->cc[CC_LOCKED], sn->cc[CC_GONE], sn->cc[CC_NONE],
               sn->cc[CC_OTHER]);
    printf("\n");
}

/* The shot whose state read the reply: the device's state from now on. */
static sk_device_key *take_state(shot *shots, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (shots[i].read) {
            sk_device_key *k = shots[i].d.key;
            shots[i].d.key = NULL;
            return k;
        }
    return NULL;
}

/* An approval of s with pin from d, sent until a protocol reply: its
 * result, or the service error when every send got none. */
static int approve_once(sk_dev *d, const sk_device_session *s, const char *pin, sk_key_status *st)
{
    uint8_t sig[SK_MAX_SIG_LEN], *rep = NULL;
    size_t sig_len = 0, rl = 0;
    memset(st, 0, sizeof *st);
    int rc = sk_device_approve(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d), s,
                               (const uint8_t *)pin, strlen(pin));
    if (rc == SK_OK)
        rc = send_until_reply(d, pin, &rep, &rl, NULL);
    if (rc == SK_OK)
        rc = sk_device_read_signature(d->key, sig, sizeof sig, &sig_len, st, rep, rl);
    sk_dev_free_reply(rep, rl);
    sodium_memzero(d->msg, sizeof d->msg);
    return rc;
}

/* ---------------------------------------------------------------- guesses */

/* A round of same-request guesses on the device m (session s): m makes the
 * approval, copies send it with pins[].  *f counts the key's charged
 * failures; checks the round and returns 1 if it revealed a right PIN. */
static int guess_round(sk_dev *m, const sk_device_session *s, const uint8_t *key_id,
                       const char pins[][8], unsigned n, unsigned round, unsigned *f,
                       const uint8_t *digest, sk_device_key **charged)
{
    shot shots[MAX_THREADS];
    seen sn;
    sk_key_status before = wait_unlocked(key_id);
    CHECK(before.state == SK_KEY_ACTIVE && before.attempts_left == attempts_after(*f));
    CHECK_OK(sk_device_approve(m->key, m->msg, sizeof m->msg, &m->msg_len, sk_dev_now(m), s,
                               (const uint8_t *)pins[0], strlen(pins[0])));
    sodium_memzero(m->msg, sizeof m->msg); /* never sent: the copies send it */
    if (charged != NULL)
        *charged = copy_state(m->key); /* with this round's request in flight */
    same_request_shots(shots, n, m->key, pins);
    run_round(shots, n, key_id, &sn);
    print_round("round", round, shots, n, &sn);

    /* one outcome for the charge: every connection got the same reply */
    CHECK(replies_agree(shots, n));
    int right = shots[0].rc == SK_OK;
    unsigned next = right ? 0 : *f + 1;
    if (right) {
        sk_pubkey *pk = NULL;
        CHECK_OK(sk_device_key_pubkey(m->key, &pk));
        if (pk != NULL)
            CHECK_OK(sk_verify(pk, cfg.scheme, SK_HASH_SHA256, digest, 32, shots[0].sig,
                               shots[0].sig_len));
        sk_pubkey_free(pk);
    } else if (next < 9) {
        CHECK_RC(SK_ERR_WRONG_PIN, shots[0].rc);
        CHECK(shots[0].st.attempts_left == attempts_after(next));
        CHECK((shots[0].st.locked_until != 0) == (next == 3 || next == 6));
    } else {
        CHECK_RC(SK_ERR_DESTROYED, shots[0].rc);
        CHECK(shots[0].st.destroy_reason == SK_DESTROY_LOCKOUT);
    }
    /* the relying parties saw the count before or after this one charge,
     * never two charges */
    CHECK(seen_only(&sn, 1u << attempts_after(*f) | 1u << attempts_after(*f + 1) |
                             (right ? 1u << 3 : 0),
                    !right && *f + 1 == 9));
    /* the server's own reads of the key, racing: active until the charge,
     * then locked or destroyed only if this charge did that */
    CHECK(choices_only(&sn, 1, !right && (next == 3 || next == 6), !right && next == 9));
    /* and afterwards the server's count is exactly one further */
    sk_key_status after = must_state(key_id);
    if (next < 9) {
        CHECK(after.attempts_left == attempts_after(next));
        CHECK(after.state == SK_KEY_ACTIVE ||
              (after.state == SK_KEY_TIMELOCKED && (next == 3 || next == 6)));
    } else {
        CHECK(after.state == SK_KEY_DESTROYED && after.destroy_reason == SK_DESTROY_LOCKOUT);
    }
    *f = next;
    sk_device_key *k = take_state(shots, n);
    close_shots(shots, n);
    if (k != NULL) {
        sk_device_key_free(m->key);
        m->key = k;
    }
    return right;
}

static int mode_guesses(void)
{
    sk_dev m, pre;
    uint8_t key_id[SK_KEY_ID_LEN], digest[32];
    char idhex[KEYID_HEX], pins[MAX_THREADS][8];
    unsigned n = opt.threads, f = 0;
    sk_device_key *last = NULL;
    enrol(&m, key_id, idhex);
    sk_device_session *s = new_session(&m, "guesses");
    digest_of(digest, "guesses");
    memset(&pre, 0, sizeof pre);

    /* nine rounds of wrong guesses: locks at 3 and 6, destroyed at 9 */
    for (unsigned round = 1; round <= 9; round++) {
        for (unsigned i = 0; i < n; i++)
            snprintf(pins[i], sizeof pins[i], "%05u", WRONG_PIN_BASE + round * 100 + i);
        if (round == 9) {
            /* the state before the last check, for a new request later */
            open_dev(&pre, NULL);
            pre.key = copy_state(m.key);
        }
        if (guess_round(&m, s, key_id, pins, n, round, &f, digest, round == 9 ? &last : NULL))
            break;
    }
    CHECK(f == 9);
    /* destroyed: the ninth request sent again with the right PIN gets the
     * stored reply; a new approval with the right PIN from the state before
     * it is refused; neither runs a check */
    if (pre.key != NULL && last != NULL) {
        sk_dev again;
        sk_key_status st;
        uint8_t sig[SK_MAX_SIG_LEN], *rep = NULL;
        size_t sig_len = 0, rl = 0;
        open_dev(&again, NULL);
        again.key = last;
        last = NULL;
        CHECK_OK(sk_device_retry(again.key, again.msg, sizeof again.msg, &again.msg_len,
                                 sk_dev_now(&again), (const uint8_t *)again.pin,
                                 strlen(again.pin)));
        CHECK_OK(send_until_reply(&again, again.pin, &rep, &rl, NULL));
        memset(&st, 0, sizeof st);
        int rc = rep ? sk_device_read_signature(again.key, sig, sizeof sig, &sig_len, &st, rep,
                                                rl)
                     : SK_ERR_INTERNAL;
        sk_dev_free_reply(rep, rl);
        printf("destroyed: the ninth request again with the right PIN: %s\n", sk_strerror(rc));
        CHECK_RC(SK_ERR_DESTROYED, rc);
        CHECK(st.destroy_reason == SK_DESTROY_LOCKOUT);
        rc = approve_once(&pre, s, pre.pin, &st);
        printf("destroyed: a new approval with the right PIN: %s\n", sk_strerror(rc));
        CHECK_RC(SK_ERR_DESTROYED, rc);
        sk_dev_close(&again);
    }
    sk_device_key_free(last);
    sk_dev_close(&pre);
    sk_key_status st = must_state(key_id);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_LOCKOUT);
    if (opt.db != NULL) {
        /* the server's own record: eight wrong PINs, then destroyed */
        CHECK(wrong_pin_events(key_id) == 8);
        CHECK(db_count("SELECT count(*) FROM events WHERE kind = 8 AND detail = 2 AND key_id = ?1",
                       key_id) == 1);
        CHECK(db_count("SELECT count(*) FROM events WHERE kind = 5 AND key_id = ?1", key_id) ==
              1); /* the proof of possession only */
    }
    sk_device_session_free(s);
    sk_dev_close(&m);

    /* a second key: the right PIN is one of the guesses of each round; all
     * replies still agree and each round is exactly one check */
    enrol(&m, key_id, idhex);
    s = new_session(&m, "mixed");
    digest_of(digest, "mixed");
    f = 0;
    unsigned rights = 0, wrongs = 0;
    for (unsigned round = 1; round <= 4; round++) {
        for (unsigned i = 0; i < n; i++)
            snprintf(pins[i], sizeof pins[i], "%05u", WRONG_PIN_BASE + 5000 + round * 100 + i);
        /* the connection started first in even rounds, another in odd ones */
        snprintf(pins[round % 2 ? round % n : 0], sizeof pins[0], "%s", m.pin);
        int right = guess_round(&m, s, key_id, pins, n, round, &f, digest, NULL);
        rights += right;
        wrongs += !right;
        if (right) {
            /* the session is complete: a new one for the next round */
            sk_device_session_free(s);
            s = new_session(&m, "mixed");
        }
    }
    printf("mixed rounds: %u of 4 revealed the right PIN\n", rights);
    if (opt.db != NULL) {
        CHECK(wrong_pin_events(key_id) == wrongs);
        CHECK(db_count("SELECT count(*) FROM events WHERE kind = 5 AND key_id = ?1", key_id) ==
              1 + rights);
    }
    sk_device_session_free(s);
    sk_dev_close(&m);
    return 0;
}

/* ----------------------------------------------------------------- locked */

static int mode_locked(void)
{
    sk_dev m;
    uint8_t key_id[SK_KEY_ID_LEN], digest[32];
    char idhex[KEYID_HEX], pins[MAX_THREADS][8];
    unsigned n = opt.threads, f = 0;
    enrol(&m, key_id, idhex);
    sk_device_session *s = new_session(&m, "locked");
    digest_of(digest, "locked");
    for (unsigned round = 1; round <= 3; round++) {
        for (unsigned i = 0; i < n; i++)
            snprintf(pins[i], sizeof pins[i], "%05u", WRONG_PIN_BASE + 7000 + round * 100 + i);
        guess_round(&m, s, key_id, pins, n, round, &f, digest, NULL);
    }
    sk_key_status st = must_state(key_id);
    CHECK(st.state == SK_KEY_TIMELOCKED && st.attempts_left == 3 &&
          st.locked_until > (uint64_t)time(NULL) + 600);
    /* locked for hours: a round with the right PIN among the guesses is
     * answered LOCKED on every connection, before any check */
    shot shots[MAX_THREADS];
    seen sn;
    for (unsigned i = 0; i < n; i++)
        snprintf(pins[i], sizeof pins[i], "%05u", WRONG_PIN_BASE + 7900 + i);
    snprintf(pins[1 % n], sizeof pins[0], "%s", m.pin);
    CHECK_OK(sk_device_approve(m.key, m.msg, sizeof m.msg, &m.msg_len, sk_dev_now(&m), s,
                               (const uint8_t *)pins[0], 5));
    sodium_memzero(m.msg, sizeof m.msg);
    same_request_shots(shots, n, m.key, pins);
    run_round(shots, n, key_id, &sn);
    print_round("while locked", 4, shots, n, &sn);
    CHECK(replies_agree(shots, n));
    CHECK_RC(SK_ERR_LOCKED, shots[0].rc);
    CHECK(shots[0].st.locked_until == st.locked_until);
    CHECK(seen_only(&sn, 1u << 3, 0));
    CHECK(choices_only(&sn, 0, 1, 0));
    sk_key_status after = must_state(key_id);
    CHECK(after.state == SK_KEY_TIMELOCKED && after.attempts_left == 3 &&
          after.locked_until == st.locked_until);
    close_shots(shots, n);
    sk_device_session_free(s);
    sk_dev_close(&m);
    return 0;
}

/* ----------------------------------------------------------------- clones */

static int mode_clones(void)
{
    unsigned n = opt.threads;
    for (unsigned k = 0; k < 3; k++) {
        sk_dev m;
        uint8_t key_id[SK_KEY_ID_LEN];
        char idhex[KEYID_HEX];
        shot shots[MAX_THREADS];
        seen sn;
        enrol(&m, key_id, idhex);
        sk_device_session *s = new_session(&m, "clones");
        for (unsigned i = 0; i < n; i++) {
            memset(&shots[i], 0, sizeof shots[i]);
            open_dev(&shots[i].d, i % 2 ? opt.peer : NULL);
            shots[i].d.key = copy_state(m.key);
            shots[i].fresh = 1;
            shots[i].s = s;
            snprintf(shots[i].pin, sizeof shots[i].pin, "%05u", WRONG_PIN_BASE + 8000 + i);
        }
        run_round(shots, n, key_id, &sn);
        print_round("copies", k + 1, shots, n, &sn);
        unsigned outcomes = 0, clones = 0, others = 0;
        for (unsigned i = 0; i < n; i++) {
            if (is_outcome(shots[i].rc))
                outcomes++;
            else if (shots[i].rc == SK_ERR_CLONE_DETECTED)
                clones++;
            else if (shots[i].rc != SK_ERR_DESTROYED)
                others++;
            if (shots[i].rc == SK_ERR_CLONE_DETECTED || shots[i].rc == SK_ERR_DESTROYED)
                CHECK(shots[i].st.destroy_reason == SK_DESTROY_CLONE);
        }
        printf("copies %u: %u PIN outcomes, %u clone verdicts, %u DESTROYED\n", k + 1, outcomes,
               clones, n - outcomes - clones - others);
        CHECK(outcomes <= 1 && clones >= 1 && others == 0);
        CHECK(outcomes == 0 || shots[0].rc != SK_OK); /* every guess was wrong */
        /* at most one charge was ever visible */
        CHECK(seen_only(&sn, 1u << 3 | 1u << 2, 1));
        CHECK(sn.reason[SK_DESTROY_LOCKOUT] == 0 && sn.reason[SK_DESTROY_USER] == 0);
        CHECK(choices_only(&sn, 1, 0, 1));
        sk_key_status st = must_state(key_id);
        CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
        close_shots(shots, n);
        sk_device_session_free(s);
        sk_dev_close(&m);
    }
    return 0;
}

/* -------------------------------------------------------------- clone-any */

/* The original's next request of one kind: 0 KeyState, 1 fetch, 2 sign. */
static int next_request(sk_dev *d, int kind, sk_key_status *st)
{
    uint8_t digest[32], sig[SK_MAX_SIG_LEN], *rep = NULL;
    size_t sig_len = 0, rl = 0;
    memset(st, 0, sizeof *st);
    if (kind == 0)
        return sk_dev_key_state(d, st);
    if (kind == 2) {
        digest_of(digest, "after the copy");
        return sk_dev_sign(d, digest, d->pin, sig, &sig_len, st);
    }
    int rc = sk_device_fetch(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d));
    if (rc == SK_OK)
        rc = send_until_reply(d, NULL, &rep, &rl, NULL);
    if (rc == SK_OK) {
        sk_device_session *s = NULL;
        rc = sk_device_read_session(d->key, &s, st, rep, rl);
        sk_device_session_free(s);
    }
    sk_dev_free_reply(rep, rl);
    return rc;
}

static int mode_clone_any(void)
{
    static const char *const kinds[] = {"KeyState", "fetch", "sign"};
    /* The device role reads no clock: the time it is handed is ignored.
     * The copy is given one far off all the same. */
    static const int64_t offsets[] = {10 * YEAR, -10 * YEAR, 0};
    for (int k = 0; k < 3; k++) {
        sk_dev m, c;
        uint8_t key_id[SK_KEY_ID_LEN], digest[32], sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        char idhex[KEYID_HEX];
        sk_key_status st;
        enrol(&m, key_id, idhex);
        digest_of(digest, "before the copy");
        CHECK_OK(sk_dev_sign(&m, digest, m.pin, sig, &sig_len, NULL));
        open_dev(&c, NULL);
        c.key = copy_state(m.key);
        c.now_offset = offsets[k];
        digest_of(digest, "the copy");
        int rc = sk_dev_sign(&c, digest, c.pin, sig, &sig_len, NULL);
        CHECK_OK(rc);
        /* the original, in the same second */
        rc = next_request(&m, k, &st);
        printf("copy signed (clock %+lld s): %s; the original's %s: %s, destroy reason %d\n",
               (long long)offsets[k], "ok", kinds[k], sk_strerror(rc), (int)st.destroy_reason);
        CHECK_RC(SK_ERR_CLONE_DETECTED, rc);
        CHECK(st.destroy_reason == SK_DESTROY_CLONE);
        st = must_state(key_id);
        CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
        /* and the copy never signs again */
        digest_of(digest, "the copy again");
        rc = sk_dev_sign(&c, digest, c.pin, sig, &sig_len, &st);
        CHECK_RC(SK_ERR_DESTROYED, rc);
        sk_dev_close(&c);
        sk_dev_close(&m);
    }
    return 0;
}

/* ---------------------------------------------------------------- rollback */

static void state_path(char *out, size_t cap, const char *name)
{
    if (opt.state == NULL)
        die("--state DIR is required");
    snprintf(out, cap, "%s/%s", opt.state, name);
}

static void save_file(const char *name, const void *data, size_t len)
{
    char path[4096];
    state_path(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("cannot write a state file");
}

static size_t load_file(const char *name, void *data, size_t cap)
{
    char path[4096];
    state_path(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot read a state file");
    size_t n = fread(data, 1, cap, f);
    fclose(f);
    return n;
}

static void save_state(const char *name, const sk_device_key *key)
{
    uint8_t sealed[SK_MAX_MESSAGE_LEN];
    size_t len = 0;
    if (sk_device_key_seal(key, sealed, sizeof sealed, &len, storage_key, sizeof storage_key) !=
        SK_OK)
        die("cannot seal the device state");
    save_file(name, sealed, len);
}

static sk_device_key *load_state(const char *name)
{
    uint8_t sealed[SK_MAX_MESSAGE_LEN];
    sk_device_key *k = NULL;
    size_t len = load_file(name, sealed, sizeof sealed);
    if (sk_device_key_open(&k, sealed, len, storage_key, sizeof storage_key) != SK_OK)
        die("cannot open a saved device state");
    return k;
}

/* Saves a row for the driver script: NAME.hex (the blob), NAME.meta
 * ("version state"). */
static void save_row(const char *name, const row *r)
{
    char fname[64], *h = malloc(2 * r->len + 1), meta[64];
    if (h == NULL)
        die("out of memory");
    hex(h, r->blob, r->len);
    snprintf(fname, sizeof fname, "%s.hex", name);
    save_file(fname, h, 2 * r->len);
    free(h);
    snprintf(fname, sizeof fname, "%s.meta", name);
    int n = snprintf(meta, sizeof meta, "%lld %lld\n", r->version, r->state);
    save_file(fname, meta, (size_t)n);
}

/* The request built in d->msg sent once: SK_OK and the reply, or the
 * error of the "SKE1" frame (the server ran no protocol step). */
static int send_once(sk_dev *d, uint8_t **rep, size_t *rl)
{
    return sk_dev_xcall(d, "SKD1", d->msg, d->msg_len, rep, rl);
}

static int mode_rollback(void)
{
    sk_dev m, thief, peer;
    uint8_t key_id[SK_KEY_ID_LEN], *rep = NULL;
    size_t rl = 0;
    char idhex[KEYID_HEX];
    sk_key_status st;
    row old, newest;

    /* --- the server that served the key refuses an older row */
    enrol(&m, key_id, idhex);
    save_file("key", idhex, strlen(idhex));
    open_dev(&thief, NULL);
    thief.key = copy_state(m.key); /* the attacker's copy, taken with the row */
    save_state("thief", thief.key);
    db_get(key_id, &old);
    save_row("old", &old);
    sk_device_session *s = new_session(&m, "rollback");
    for (unsigned i = 1; i <= 2; i++) {
        int rc = approve_once(&m, s, "11111", &st);
        CHECK_RC(SK_ERR_WRONG_PIN, rc);
        CHECK(st.attempts_left == 3 - i);
    }
    db_get(key_id, &newest);
    printf("row saved at version %lld; after two wrong PINs version %lld\n", old.version,
           newest.version);
    CHECK(newest.version > old.version);
    db_put(key_id, &old);

    /* the thief's copy matches the old row (its OTP is the old row's
     * current one): a wrong guess, sent again and again, then the right
     * PIN: the server answers none of them from the old row */
    int rc = sk_device_approve(thief.key, thief.msg, sizeof thief.msg, &thief.msg_len,
                               sk_dev_now(&thief), s, (const uint8_t *)"22222", 5);
    CHECK_OK(rc);
    for (unsigned i = 0; i < 3; i++) {
        rc = send_once(&thief, &rep, &rl);
        printf("rolled back, the thief's guess %u: %s\n", i + 1,
               rc == SK_OK ? "a protocol reply" : sk_strerror(rc));
        CHECK(rc != SK_OK && rep == NULL);
        sk_dev_free_reply(rep, rl);
        rep = NULL;
        CHECK_OK(sk_device_retry(thief.key, thief.msg, sizeof thief.msg, &thief.msg_len,
                                 sk_dev_now(&thief), (const uint8_t *)(i < 1 ? "22222" : thief.pin),
                                 5));
    }
    /* the honest device: its OTP is unknown to the old row - a challenge
     * (nothing to store), and with the challenge the clone verdict, which
     * cannot be stored either */
    CHECK_OK(sk_device_key_state_request(m.key, m.msg, sizeof m.msg, &m.msg_len, sk_dev_now(&m)));
    rc = send_once(&m, &rep, &rl);
    CHECK_OK(rc);
    rc = rep ? sk_device_read_reply(m.key, &st, rep, rl) : rc;
    sk_dev_free_reply(rep, rl);
    rep = NULL;
    printf("rolled back, the honest device's KeyState: %s\n", sk_strerror(rc));
    if (rc == SK_ERR_PROTO_CHALLENGE) {
        CHECK_OK(sk_device_retry(m.key, m.msg, sizeof m.msg, &m.msg_len, sk_dev_now(&m), NULL, 0));
        rc = send_once(&m, &rep, &rl);
        printf("rolled back, the honest device with the challenge: %s\n",
               rc == SK_OK ? "a protocol reply" : sk_strerror(rc));
        CHECK(rc != SK_OK);
        sk_dev_free_reply(rep, rl);
        rep = NULL;
    } else {
        CHECK_RC(SK_ERR_PROTO_CHALLENGE, rc);
    }
    /* nothing was written over the old row, no check was logged */
    CHECK(db_version(key_id) == old.version);
    CHECK(wrong_pin_events(key_id) == 2);
    rc = rp_state(key_id, &st);
    printf("rolled back, the row as the store holds it (observer): %s, state %d, "
           "attempts left %u\n",
           sk_strerror(rc), (int)st.state, st.attempts_left);
    CHECK(db_version(key_id) == old.version); /* the observer wrote nothing */

    /* the newest row put back: the failure count is where it was, and the
     * next wrong PIN is the third (the key locks) */
    db_put(key_id, &newest);
    CHECK_OK(sk_device_retry(m.key, m.msg, sizeof m.msg, &m.msg_len, sk_dev_now(&m), NULL, 0));
    rc = send_until_reply(&m, NULL, &rep, &rl, NULL);
    CHECK_OK(rc);
    memset(&st, 0, sizeof st);
    rc = rep ? sk_device_read_reply(m.key, &st, rep, rl) : rc;
    sk_dev_free_reply(rep, rl);
    rep = NULL;
    CHECK_OK(rc);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 1);
    rc = approve_once(&m, s, "33333", &st);
    printf("newest row back: KeyState attempts left 1, next wrong PIN: %s, attempts left %u, "
           "locked until %llu\n",
           sk_strerror(rc), st.attempts_left, (unsigned long long)st.locked_until);
    CHECK_RC(SK_ERR_WRONG_PIN, rc);
    CHECK(st.attempts_left == 3 && st.locked_until > (uint64_t)time(NULL));
    CHECK(wrong_pin_events(key_id) == 3);
    save_state("honest", m.key);
    sk_device_session_free(s);
    sk_dev_close(&thief);
    sk_dev_close(&m);
    row_free(&old);
    row_free(&newest);

    /* --- a second server process on the same database, which never
     * served the key: it has no mark for it */
    if (opt.peer == NULL)
        return 0;
    enrol(&m, key_id, idhex);
    open_dev(&thief, NULL);
    thief.key = copy_state(m.key);
    db_get(key_id, &old);
    s = new_session(&m, "rollback peer");
    for (unsigned i = 1; i <= 2; i++) {
        rc = approve_once(&m, s, "11111", &st);
        CHECK_RC(SK_ERR_WRONG_PIN, rc);
    }
    db_put(key_id, &old);
    CHECK_OK(sk_device_approve(thief.key, thief.msg, sizeof thief.msg, &thief.msg_len,
                               sk_dev_now(&thief), s, (const uint8_t *)"22222", 5));
    rc = send_once(&thief, &rep, &rl);
    printf("peer test: rolled back, the thief's guess at the first server: %s\n",
           rc == SK_OK ? "a protocol reply" : sk_strerror(rc));
    CHECK(rc != SK_OK);
    sk_dev_free_reply(rep, rl);
    rep = NULL;
    open_dev(&peer, opt.peer);
    peer.key = thief.key;
    thief.key = NULL;
    CHECK_OK(sk_device_retry(peer.key, peer.msg, sizeof peer.msg, &peer.msg_len,
                             sk_dev_now(&peer), (const uint8_t *)"22222", 5));
    rc = send_until_reply(&peer, "22222", &rep, &rl, NULL);
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    memset(&st, 0, sizeof st);
    if (rc == SK_OK)
        rc = sk_device_read_signature(peer.key, sig, sizeof sig, &sig_len, &st, rep, rl);
    sk_dev_free_reply(rep, rl);
    rep = NULL;
    printf("peer test: the same guess at the second server: %s, attempts left %u "
           "(two wrong PINs were counted before the rollback)\n",
           sk_strerror(rc), st.attempts_left);
    /* LIMIT (doc/security.md, "Rolling back a key record"): the mark lives
     * in each process, so a process that never served the key takes the
     * old row, its failure count and its OTP. */
    CHECK_RC(SK_ERR_WRONG_PIN, rc);
    CHECK(st.attempts_left == 2);
    sk_device_session_free(s);
    sk_dev_close(&peer);
    sk_dev_close(&thief);
    sk_dev_close(&m);
    row_free(&old);
    return 0;
}

/* After a restart with the old row put back (by loopback.sh): the thief's
 * copy taken with that row. */
static int mode_rollback_restart(void)
{
    sk_dev t;
    uint8_t key_id[SK_KEY_ID_LEN];
    char idhex[KEYID_HEX + 1] = "";
    sk_key_status st;
    load_file("key", idhex, KEYID_HEX - 1);
    for (size_t i = 0; i < SK_KEY_ID_LEN; i++)
        if (sscanf(idhex + 2 * i, "%2hhx", &key_id[i]) != 1)
            die("bad key file");
    open_dev(&t, NULL);
    t.key = load_state("thief");
    st = must_state(key_id);
    printf("restarted with the old row: KeyState %d, attempts left %u, locked until %llu\n",
           (int)st.state, st.attempts_left, (unsigned long long)st.locked_until);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 3);
    /* the thief fetches the open session and guesses twice */
    uint8_t *rep = NULL;
    size_t rl = 0;
    sk_device_session *s = NULL;
    int rc = sk_device_fetch(t.key, t.msg, sizeof t.msg, &t.msg_len, sk_dev_now(&t));
    if (rc == SK_OK)
        rc = send_until_reply(&t, NULL, &rep, &rl, NULL);
    if (rc == SK_OK)
        rc = sk_device_read_session(t.key, &s, &st, rep, rl);
    sk_dev_free_reply(rep, rl);
    printf("restarted: the thief's fetch: %s\n", sk_strerror(rc));
    /* LIMIT (doc/security.md): a process that has not served the key since
     * it started takes the old row; the failure count starts again from
     * the old row's. */
    CHECK_OK(rc);
    for (unsigned i = 1; s != NULL && i <= 2; i++) {
        rc = approve_once(&t, s, "44444", &st);
        printf("restarted: the thief's wrong guess %u: %s, attempts left %u\n", i,
               sk_strerror(rc), st.attempts_left);
        CHECK_RC(SK_ERR_WRONG_PIN, rc);
        CHECK(st.attempts_left == 3 - i);
    }
    sk_device_session_free(s);
    sk_dev_close(&t);
    return 0;
}

/* The honest device, whose OTP the rolled-back row does not know. */
static int mode_rollback_honest(void)
{
    sk_dev m;
    uint8_t *rep = NULL, key_id[SK_KEY_ID_LEN];
    size_t rl = 0;
    sk_key_status st;
    open_dev(&m, NULL);
    m.key = load_state("honest");
    CHECK_OK(sk_device_key_id(m.key, key_id, sizeof key_id));
    int rc = sk_device_key_state_request(m.key, m.msg, sizeof m.msg, &m.msg_len, sk_dev_now(&m));
    for (unsigned i = 0; rc == SK_OK && i < 2; i++) {
        rc = send_until_reply(&m, NULL, &rep, &rl, NULL);
        memset(&st, 0, sizeof st);
        if (rc == SK_OK)
            rc = sk_device_read_reply(m.key, &st, rep, rl);
        sk_dev_free_reply(rep, rl);
        rep = NULL;
        printf("the honest device's KeyState: %s\n", sk_strerror(rc));
        if (rc != SK_ERR_PROTO_CHALLENGE)
            break;
        rc = sk_device_retry(m.key, m.msg, sizeof m.msg, &m.msg_len, sk_dev_now(&m), NULL, 0);
    }
    CHECK_RC(SK_ERR_CLONE_DETECTED, rc);
    CHECK(st.destroy_reason == SK_DESTROY_CLONE);
    st = must_state(key_id);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
    sk_dev_close(&m);
    return 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: atk_loopback --server URL --server-pub FILE [--threads N]\n"
                    "  [--floods M] [--timeout MS] [--db PATH] [--state DIR] [--peer URL]\n"
                    "  [--spread URL,URL...] [--srv-dir DIR] [--store URI] [--certchoice PROG]\n"
                    "  guesses|locked|clones|clone-any|rollback|rollback-restart|"
                    "rollback-honest\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mode = NULL, *pub_path = NULL, *spread = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v != NULL && (i++, 1))
        if (OPT("--server"))
            cfg.url = v;
        else if (OPT("--server-pub"))
            pub_path = v;
        else if (OPT("--threads"))
            opt.threads = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--floods"))
            opt.floods = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--timeout"))
            cfg.timeout_ms = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--db"))
            opt.db = v;
        else if (OPT("--state"))
            opt.state = v;
        else if (OPT("--peer"))
            opt.peer = v;
        else if (OPT("--srv-dir"))
            opt.srv_dir = v;
        else if (OPT("--store"))
            opt.store = v;
        else if (OPT("--certchoice"))
            opt.certchoice = v;
        else if (OPT("--spread"))
            spread = v;
        else if (a[0] != '-' && mode == NULL)
            mode = a;
        else
            usage();
#undef OPT
    }
    if (mode == NULL || cfg.url == NULL || pub_path == NULL || opt.threads < 2 ||
        opt.threads > MAX_THREADS || opt.floods > MAX_FLOODS)
        usage();
    sk_test_init();
    if (sk_dev_config_load_server_pub(&cfg, pub_path) != SK_OK)
        die("cannot read the server's public keys");
    cfg.run_tag = randombytes_random();
    static char spread_urls[4096];
    if (spread != NULL) {
        if (strlen(spread) >= sizeof spread_urls)
            usage();
        strcpy(spread_urls, spread);
        char *save = NULL;
        for (char *u = strtok_r(spread_urls, ",", &save); u != NULL && opt.nspread < MAX_THREADS;
             u = strtok_r(NULL, ",", &save)) {
            opt.spread[opt.nspread] = cfg;
            opt.spread[opt.nspread++].url = u;
        }
    }
    static char db_uri[4096];
    if (opt.store == NULL && opt.db != NULL) {
        snprintf(db_uri, sizeof db_uri, "sqlite:%s", opt.db);
        opt.store = db_uri;
    }
    if (opt.srv_dir != NULL && opt.store != NULL)
        observer_open(opt.srv_dir, opt.store);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "guesses"))
        mode_guesses();
    else if (!strcmp(mode, "locked"))
        mode_locked();
    else if (!strcmp(mode, "clones"))
        mode_clones();
    else if (!strcmp(mode, "clone-any"))
        mode_clone_any();
    else if (!strcmp(mode, "rollback"))
        mode_rollback();
    else if (!strcmp(mode, "rollback-restart"))
        mode_rollback_restart();
    else if (!strcmp(mode, "rollback-honest"))
        mode_rollback_honest();
    else
        usage();
    /* the certificate choices were answered (a PROG that never reaches the
     * API would leave every round's check empty) */
    if (opt.certchoice != NULL && rounds > 0)
        CHECK(choices_answered > 0);
    observer_close();
    char name[64];
    snprintf(name, sizeof name, "atk_loopback %s", mode);
    return sk_test_done(name);
}
