/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/* e2e.c - splitkey-bench's end-to-end measurements: real splitkey-server
 * processes on loopback with the SQLite store, driven over nng by devices
 * of the library's device role (sk_devdrive).
 *
 * Per profile the server directory is initialised once in a temporary
 * directory, and two servers are started on it and on the same database:
 * one with 1 worker, one with 2.  Each cell of a grid (1, 2, 4, 8 clients)
 * is measured in rounds, and every round runs on one server and then on
 * the other (the order alternating), so that a slow or fast spell of the
 * machine falls on both sides of the 2-workers / 1-worker ratio.  The
 * server that is not being measured is idle.  Three grids:
 *   enrolment          each client enrols keys one after another (the
 *                      server makes each server key during the request,
 *                      --pool-size 0); these keys are the ones that sign;
 *   signing            each client its own key and connection, signing back
 *                      to back: session create, approval (the device
 *                      partial computed here, on the same cores as the
 *                      server), signature read.  In the (1 worker,
 *                      1 client) cell every signing is followed by one
 *                      whole signing in this process, the figure it is
 *                      compared with;
 *   server throughput  for every key a session is created and its approval
 *                      built ahead (unmeasured); the burst then only sends
 *                      the approvals and reads the signatures, as a server
 *                      serving phones would see it.  Between the rounds of
 *                      the 8-client cell the bare arithmetic (the floor) is
 *                      timed on one thread and on two, for what a second
 *                      core gives on this machine.
 * The CPU time of the server (the schedstat of each of its threads) and of this process
 * (getrusage) is read around every measured phase.  Every signature is
 * verified with sk_verify under the key's public key, outside the timed
 * part.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "child.h"
#include "devdrive.h"
#include "req_client.h"

#define E2E_MAX_THREADS 8  /* the most clients of the grid */
#define FLUSH_PER_ROUND 16 /* disk flushes timed per round of the 8-client cell */

/* ------------------------------------------------------ the server children */

/* Files the server directory can hold, for removal from a signal handler
 * (only async-signal-safe calls there). */
static const char *const server_files[] = {
    "kx.key",        "master.key",     "server.conf",       "server.pub",    "sign.key",
    "ready-w1",      "ready-w2",       "server.db",         "server.db-wal", "server.db-shm",
    "server.db-journal", "init.log",   "server-w1.log",     "server-w2.log",  "flush.tmp",
    "store.id",      "run.lock",       "rp-tls.key",        "rp-tls.crt",    "relying-parties.json",
    "operators"};
#define N_SERVER_FILES (sizeof server_files / sizeof server_files[0])

/* The servers the bench runs (one per worker count), for the exit paths. */
static struct {
    char dir[PATH_MAX];
    char file_paths[N_SERVER_FILES][PATH_MAX + 32];
    volatile pid_t pid[E2E_NW];
    volatile sig_atomic_t have_dir;
    bool hooks;
} child;

static void remove_dir_signal_safe(void)
{
    if (!child.have_dir)
        return;
    for (size_t i = 0; i < N_SERVER_FILES; i++)
        unlink(child.file_paths[i]);
    rmdir(child.dir);
}

static void kill_children_now(void)
{
    for (unsigned i = 0; i < E2E_NW; i++) {
        pid_t pid = child.pid[i];
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            child.pid[i] = 0;
        }
    }
}

static void on_signal(int sig)
{
    kill_children_now();
    remove_dir_signal_safe();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Removes the directory and everything in it (no subdirectories). */
static void remove_dir(void)
{
    if (!child.have_dir)
        return;
    DIR *d = opendir(child.dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", child.dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(child.dir);
    child.have_dir = 0;
}

static void at_exit(void)
{
    kill_children_now();
    remove_dir();
}

static void install_hooks(void)
{
    if (child.hooks)
        return;
    child.hooks = true;
    atexit(at_exit);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Reports a failure of a server, with the end of its log (the directory is
 * removed afterwards).  Returns false. */
static bool server_failed(const char *what, const char *log)
{
    return bench_child_failed("e2e", child.dir, what, log);
}


/* mkdtemp and `splitkey-server init --dir D`. */
static bool server_init(const char *bin)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(child.dir, sizeof child.dir, "%s/splitkey-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(child.dir) == NULL) {
        fprintf(stderr, "\nsplitkey-bench: e2e: mkdtemp %s: %s\n", child.dir, strerror(errno));
        return false;
    }
    for (size_t i = 0; i < N_SERVER_FILES; i++)
        if ((size_t)snprintf(child.file_paths[i], sizeof child.file_paths[i], "%s/%s", child.dir,
                             server_files[i]) >= sizeof child.file_paths[i])
            child.file_paths[i][0] = '\0';
    child.have_dir = 1;
    char *argv[] = {(char *)bin, (char *)"init", (char *)"--dir", child.dir, NULL};
    pid_t pid = bench_spawn(child.dir, bin, argv, "init.log");
    if (pid < 0)
        return server_failed("cannot fork", "init.log");
    int st = bench_wait_exit(pid, 60000);
    if (st != 0) {
        if (st < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return server_failed(st == 127 ? "cannot run the server binary (--server-bin)"
                                       : "splitkey-server init failed",
                             "init.log");
    }
    return true;
}

/* `splitkey-server run` with e2e_workers[wi] workers on a free loopback
 * port; url receives the bound URL from its ready file.  The servers are
 * started one after the other, so that only the first creates the
 * database. */
static bool server_start(const char *bin, unsigned wi, char *url, size_t url_cap)
{
    char ready[PATH_MAX + 16], db[PATH_MAX + 24], w[16], log[32];
    snprintf(ready, sizeof ready, "%s/ready-w%u", child.dir, e2e_workers[wi]);
    snprintf(db, sizeof db, "sqlite:%s/server.db", child.dir);
    snprintf(w, sizeof w, "%u", e2e_workers[wi]);
    snprintf(log, sizeof log, "server-w%u.log", e2e_workers[wi]);
    unlink(ready);
    char *argv[] = {(char *)bin,        (char *)"run",
                    (char *)"--dir",    child.dir,
                    (char *)"--listen", (char *)"tcp://127.0.0.1:0",
                    (char *)"--ready-file", ready,             (char *)"--db",
                    db,                 (char *)"--open-enrolment", (char *)"--workers",
                    w,                  (char *)"--pool-size", (char *)"0",
                    NULL};
    pid_t pid = bench_spawn(child.dir, bin, argv, log);
    if (pid < 0)
        return server_failed("cannot fork", log);
    child.pid[wi] = pid;
    for (unsigned waited = 0; waited < 30000; waited += 10) {
        FILE *f = fopen(ready, "r");
        if (f != NULL) {
            bool got = fgets(url, (int)url_cap, f) != NULL;
            fclose(f);
            url[strcspn(url, "\r\n")] = '\0';
            if (got && url[0] != '\0')
                return true;
        }
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            child.pid[wi] = 0;
            return server_failed(WIFEXITED(st) && WEXITSTATUS(st) == 127
                                     ? "cannot run the server binary (--server-bin)"
                                     : "the server exited while starting",
                                 log);
        }
        bench_sleep_ms(10);
    }
    return server_failed("the server did not become ready in 30 s", log);
}

/* SIGTERM, then SIGKILL after 10 s.  True when it stopped cleanly. */
static bool server_stop(unsigned wi)
{
    pid_t pid = child.pid[wi];
    char log[32];
    snprintf(log, sizeof log, "server-w%u.log", e2e_workers[wi]);
    if (pid <= 0)
        return true;
    kill(pid, SIGTERM);
    int st = bench_wait_exit(pid, 10000);
    if (st < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        child.pid[wi] = 0;
        return server_failed("the server did not stop on SIGTERM", log);
    }
    child.pid[wi] = 0;
    return st == 0 ? true : server_failed("the server exited with an error", log);
}

/* A server's CPU time in seconds, or -1: the sum over its threads of the
 * nanoseconds each has run (/proc/PID/task/TID/schedstat).  The server's
 * threads live as long as it does, so no time is lost with an exiting
 * thread; a thread that vanishes between the listing and the read is
 * skipped. */
static double server_cpu(unsigned wi)
{
    pid_t pid = child.pid[wi];
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    unsigned long long ns = 0;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char stat_path[128];
        snprintf(stat_path, sizeof stat_path, "/proc/%d/task/%.20s/schedstat", (int)pid,
                 e->d_name);
        FILE *f = fopen(stat_path, "r");
        unsigned long long run = 0;
        if (f == NULL)
            continue;
        ok = fscanf(f, "%llu", &run) == 1;
        fclose(f);
        ns += run;
    }
    closedir(d);
    return ok ? (double)ns / 1e9 : -1;
}

/* This process's CPU time, all threads, in seconds. */
static double own_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Core-seconds all cores spent idle or waiting for I/O since boot
 * (/proc/stat), or -1. */
static double machine_idle(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    unsigned long long user, nice, sys, idle, iowait;
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait);
    fclose(f);
    if (got != 5)
        return -1;
    return (double)(idle + iowait) / (double)sysconf(_SC_CLK_TCK);
}

/* The calling thread's CPU time in seconds. */
static double thread_cpu(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ----------------------------------------------------------- the disk */

/* What one commit waits for on this disk: the WAL frames of an approval
 * (about nine 4 KiB pages) written in place into a file that does not grow,
 * as SQLite reuses its WAL, then fdatasync, as synchronous=FULL does at
 * every commit.  The file sits in the servers' directory, on the same file
 * system as their database. */
#define FLUSH_BYTES (9u * 4096u)
#define FLUSH_SLOTS 64u

typedef struct flush_file {
    int fd;
    uint8_t buf[FLUSH_BYTES];
} flush_file;

static bool flush_open(flush_file *f)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/flush.tmp", child.dir);
    f->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (f->fd < 0)
        return false;
    randombytes_buf(f->buf, sizeof f->buf);
    for (unsigned i = 0; i < FLUSH_SLOTS; i++)
        if (pwrite(f->fd, f->buf, sizeof f->buf, (off_t)i * FLUSH_BYTES) != (ssize_t)sizeof f->buf)
            return false;
    return fsync(f->fd) == 0;
}

static void flush_close(flush_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* One write and flush; seconds, or -1. */
static double flush_once(flush_file *f, unsigned i)
{
    f->buf[0] = (uint8_t)i;
    double t0 = bench_now();
    if (pwrite(f->fd, f->buf, sizeof f->buf, (off_t)(i % FLUSH_SLOTS) * FLUSH_BYTES) !=
            (ssize_t)sizeof f->buf ||
        fdatasync(f->fd) != 0)
        return -1;
    return bench_now() - t0;
}

/* ------------------------------------------------------------ the devices */

typedef struct e2e_key {
    sk_dev d;
    struct sk_req_client *conn[E2E_NW]; /* to each server; d.c is one of them */
    sk_pubkey *pub;
    uint8_t digest[32]; /* SHA-256, as cfg.hash */
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len;
    double seconds; /* the last measured call */
} e2e_key;

typedef struct run {
    const char *pn;
    sk_profile profile;
    sk_dev_config cfg;
    char url[E2E_NW][256];
    e2e_key *keys;
    unsigned nkeys;  /* enrolled: the array's length */
    unsigned nsign;  /* keys that sign: keys[0 .. nsign) */
    const e2e_hooks *hooks;
    flush_file flush;
    pthread_mutex_t lock; /* progress, shared series */
    unsigned done, total;
    double last_progress;
    char stage[32];
    /* the phase in progress */
    unsigned wi, c, round, threads, base, count, per_thread;
    series *lat;
    series *ref;           /* in-process signings interleaved, or NULL */
    series *ref_ratio;     /* each signing's latency / its in-process signing's */
    double ref_wall, ref_cpu, ref_idle; /* time they took, taken out of the phase */
    pthread_barrier_t start, end;
    atomic_bool failed; /* read by every thread */
} run;

static void progress_show(run *r)
{
    fprintf(stderr, "\r[%s] e2e %-12s %4u/%-4u  ", r->pn, r->stage, r->done, r->total);
    fflush(stderr);
}

/* Counts one operation; the line is redrawn at most ten times a second, so
 * that it costs the measured phases nothing worth mentioning. */
static void progress_step(run *r)
{
    pthread_mutex_lock(&r->lock);
    r->done++;
    double now = bench_now();
    if (now - r->last_progress >= 0.1 || r->done == r->total) {
        r->last_progress = now;
        progress_show(r);
    }
    pthread_mutex_unlock(&r->lock);
}

static void stage(run *r, const char *what, unsigned wi, unsigned c, unsigned total)
{
    snprintf(r->stage, sizeof r->stage, "%s w%u c%u", what, e2e_workers[wi], c);
    r->done = 0;
    r->total = total;
    r->last_progress = 0;
}

static void fail(run *r, const char *what, unsigned key, int rc)
{
    pthread_mutex_lock(&r->lock);
    if (!r->failed)
        fprintf(stderr, "\nsplitkey-bench: e2e [%s] %s, key %u: %s\n", r->pn, what, key,
                sk_strerror(rc));
    r->failed = true;
    pthread_mutex_unlock(&r->lock);
}

/* A SHA-256 digest (32 bytes) that names the message. */
static void make_digest(run *r, uint8_t *digest, unsigned key, unsigned j, char mode)
{
    char text[160];
    snprintf(text, sizeof text, "splitkey-bench %08x %s %c w%u c%u round %u key %u message %u",
             r->cfg.run_tag, r->pn, mode, e2e_workers[r->wi], r->c, r->round, key, j);
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)) != SK_OK)
        memset(digest, 0, 32);
}

static bool verify(run *r, const e2e_key *k, unsigned key, const uint8_t *digest,
                   const uint8_t *sig, size_t sig_len)
{
    int rc = sk_verify(k->pub, r->cfg.scheme, r->cfg.hash, digest, 32, sig, sig_len);
    if (rc != SK_OK)
        fail(r, "signature does not verify", key, rc);
    return rc == SK_OK;
}

/* Points keys[from .. to) at server wi, connecting those that have no
 * connection to it yet (unmeasured). */
static bool use_server(run *r, unsigned from, unsigned to, unsigned wi)
{
    for (unsigned i = from; i < to; i++) {
        e2e_key *k = &r->keys[i];
        if (k->conn[wi] == NULL) {
            int rc = sk_req_client_open(&k->conn[wi], r->url[wi], r->cfg.timeout_ms, 0);
            if (rc != SK_OK) {
                fail(r, "cannot connect", i, rc);
                return false;
            }
        }
        k->d.c = k->conn[wi];
    }
    r->wi = wi;
    return true;
}

/* Runs fn(r, t) on threads t = 0 .. n-1 and waits for them. */
typedef struct thread_arg {
    run *r;
    unsigned t;
    void (*fn)(run *r, unsigned t);
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    a->fn(a->r, a->t);
    return NULL;
}

/* Starts fn(r, t) on threads t = 0 .. n-1 (n <= E2E_MAX_THREADS); returns
 * how many started. */
static unsigned start_threads(run *r, unsigned n, void (*fn)(run *, unsigned), pthread_t *th,
                              thread_arg *args)
{
    unsigned started = 0;
    for (; started < n; started++) {
        args[started] = (thread_arg){r, started, fn};
        if (pthread_create(&th[started], NULL, thread_main, &args[started]) != 0)
            break;
    }
    return started;
}

static bool on_threads(run *r, unsigned n, void (*fn)(run *, unsigned))
{
    pthread_t th[E2E_MAX_THREADS];
    thread_arg args[E2E_MAX_THREADS];
    unsigned started = start_threads(r, n, fn, th, args);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (started < n) {
        fprintf(stderr, "\nsplitkey-bench: e2e: cannot start a thread\n");
        r->failed = true;
    }
    return !r->failed;
}

/* Starts fn on n threads that meet the main thread at r->start (after
 * their warm-up) and at r->end (before their unmeasured checks), and
 * measures what lies between into cell.  A thread that cannot start ends
 * the process: the barriers could not complete. */
static bool on_threads_timed(run *r, unsigned n, void (*fn)(run *, unsigned), e2e_cell *cell,
                             unsigned long ops)
{
    if (pthread_barrier_init(&r->start, NULL, n + 1) != 0 ||
        pthread_barrier_init(&r->end, NULL, n + 1) != 0) {
        fprintf(stderr, "\nsplitkey-bench: e2e: cannot make a barrier\n");
        exit(1);
    }
    r->ref_wall = r->ref_cpu = r->ref_idle = 0;
    pthread_t th[E2E_MAX_THREADS];
    thread_arg args[E2E_MAX_THREADS];
    if (start_threads(r, n, fn, th, args) < n) {
        fprintf(stderr, "\nsplitkey-bench: e2e: cannot start a thread\n");
        exit(1);
    }
    pthread_barrier_wait(&r->start);
    double cpu0 = server_cpu(r->wi), own0 = own_cpu(), idle0 = machine_idle(), t0 = bench_now();
    pthread_barrier_wait(&r->end);
    double t1 = bench_now(), idle1 = machine_idle(), cpu1 = server_cpu(r->wi), own1 = own_cpu();
    for (unsigned i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&r->start);
    pthread_barrier_destroy(&r->end);
    cell->n += ops;
    cell->seconds += t1 - t0 - r->ref_wall;
    if (t1 - t0 - r->ref_wall > 0)
        series_add(&cell->round_rate, (double)ops / (t1 - t0 - r->ref_wall));
    if (cell->server_cpu_s >= 0)
        cell->server_cpu_s = cpu0 >= 0 && cpu1 >= 0 ? cell->server_cpu_s + cpu1 - cpu0 : -1;
    if (cell->idle_s >= 0)
        cell->idle_s =
            idle0 >= 0 && idle1 >= 0 ? cell->idle_s + idle1 - idle0 - r->ref_idle : -1;
    if (cell->client_cpu_s >= 0)
        cell->client_cpu_s =
            own0 >= 0 && own1 >= 0 ? cell->client_cpu_s + own1 - own0 - r->ref_cpu : -1;
    return !r->failed;
}

/* ---------------------------------------------------------------- enrolment */

/* Thread t enrols keys base + t, base + t + threads, ... < base + count. */
static void enrol_thread(run *r, unsigned t)
{
    pthread_barrier_wait(&r->start);
    for (unsigned i = r->base + t; i < r->base + r->count && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        double t0 = bench_now();
        int rc = sk_dev_enrol(&k->d, i);
        k->seconds = bench_now() - t0;
        if (rc != SK_OK) {
            fail(r, "enrolment failed", i, rc);
            break;
        }
        progress_step(r);
    }
    pthread_barrier_wait(&r->end);
    for (unsigned i = r->base + t; i < r->base + r->count && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        int rc = sk_device_key_pubkey(k->d.key, &k->pub);
        if (rc != SK_OK) {
            fail(r, "enrolled key has no public key", i, rc);
            return;
        }
        pthread_mutex_lock(&r->lock);
        series_add(r->lat, k->seconds);
        pthread_mutex_unlock(&r->lock);
    }
}

/* Keys of one enrolment cell: at least `base`, and a whole number per
 * client. */
static unsigned enrol_count(unsigned base, unsigned c)
{
    unsigned n = base > c ? base : c;
    return (n + c - 1) / c * c;
}

static bool phase_enrol(run *r, e2e_cell *cell, unsigned wi, unsigned c, unsigned first,
                        unsigned count)
{
    /* each device is made with its first server's connection */
    r->cfg.url = r->url[wi];
    for (unsigned i = first; i < first + count; i++) {
        e2e_key *k = &r->keys[i];
        int rc = sk_dev_open(&k->d, &r->cfg, SK_PURPOSE_SIGN);
        k->conn[wi] = k->d.c;
        if (rc != SK_OK) {
            fail(r, "cannot connect", i, rc);
            return false;
        }
    }
    r->wi = wi;
    r->c = r->threads = c;
    r->base = first;
    r->count = count;
    r->lat = &cell->lat;
    return on_threads_timed(r, c, enrol_thread, cell, count);
}

/* ------------------------------------------- signing, device partial inline */

typedef struct signed_msg {
    uint8_t digest[32];
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len;
} signed_msg;

static void sign_thread(run *r, unsigned t)
{
    e2e_key *k = &r->keys[t];
    unsigned n = r->per_thread;
    double *lat = calloc(n, sizeof *lat);
    signed_msg *out = calloc(n, sizeof *out);
    int rc = lat != NULL && out != NULL ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK) { /* a warm-up signing on this server's connection */
        make_digest(r, k->digest, t, 0, 'w');
        rc = sk_dev_sign(&k->d, k->digest, k->d.pin, k->sig, &k->sig_len, NULL);
        if (rc == SK_OK && !verify(r, k, t, k->digest, k->sig, k->sig_len))
            rc = SK_ERR_BAD_SIGNATURE;
    }
    if (rc != SK_OK)
        fail(r, "warm-up signing failed", t, rc);
    pthread_barrier_wait(&r->start);
    unsigned done = 0;
    for (; rc == SK_OK && done < n && !r->failed; done++) {
        signed_msg *m = &out[done];
        make_digest(r, m->digest, t, done, 's');
        double t0 = bench_now();
        rc = sk_dev_sign(&k->d, m->digest, k->d.pin, m->sig, &m->sig_len, NULL);
        lat[done] = bench_now() - t0;
        if (rc != SK_OK) {
            fail(r, "signing failed", t, rc);
            break;
        }
        progress_step(r);
        if (r->ref != NULL) { /* the in-process reference, right after */
            double i0 = machine_idle(), w0 = bench_now(), c0 = thread_cpu();
            bool ok = r->hooks->sign_in_process(r->hooks->ctx, done);
            double w1 = bench_now(), c1 = thread_cpu(), i1 = machine_idle();
            r->ref_wall += w1 - w0; /* one client: no other writer */
            r->ref_cpu += c1 - c0;
            r->ref_idle += i0 >= 0 && i1 >= 0 ? i1 - i0 : 0;
            if (!ok) {
                fail(r, "in-process signing failed", t, SK_ERR_INTERNAL);
                rc = SK_ERR_INTERNAL;
                break;
            }
            series_add(r->ref, w1 - w0);
            if (w1 > w0)
                series_add(r->ref_ratio, lat[done] / (w1 - w0));
        }
    }
    pthread_barrier_wait(&r->end);
    for (unsigned j = 0; rc == SK_OK && j < done; j++)
        if (!verify(r, k, t, out[j].digest, out[j].sig, out[j].sig_len))
            rc = SK_ERR_BAD_SIGNATURE;
    if (rc == SK_OK) {
        pthread_mutex_lock(&r->lock);
        for (unsigned j = 0; j < done; j++)
            series_add(r->lat, lat[j]);
        pthread_mutex_unlock(&r->lock);
    }
    free(lat);
    free(out);
}

static bool phase_sign(run *r, e2e_cell *cell, unsigned c, unsigned per_client, series *ref,
                       series *ref_ratio)
{
    r->ref_ratio = ref_ratio;
    r->c = r->threads = c;
    r->per_thread = per_client;
    r->lat = &cell->lat;
    r->ref = ref;
    bool ok = on_threads_timed(r, c, sign_thread, cell, (unsigned long)c * per_client);
    r->ref = NULL;
    return ok;
}

/* ------------------------------------ server throughput, partials ahead */

static void prepare_thread(run *r, unsigned t)
{
    for (unsigned i = t; i < r->nsign && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        sk_device_session *s = NULL;
        make_digest(r, k->digest, i, 0, 'p');
        int rc = sk_dev_create(&k->d, k->digest, "splitkey-bench", &s, NULL);
        if (rc == SK_OK)
            rc = sk_dev_approve_build(&k->d, s, k->d.pin);
        sk_device_session_free(s);
        if (rc != SK_OK)
            fail(r, "preparing an approval failed", i, rc);
    }
}

static void burst_thread(run *r, unsigned t)
{
    pthread_barrier_wait(&r->start);
    for (unsigned i = t; i < r->nsign && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        double t0 = bench_now();
        int rc = sk_dev_approve_send(&k->d, k->d.pin, k->sig, &k->sig_len, NULL);
        k->seconds = bench_now() - t0;
        if (rc != SK_OK) {
            fail(r, "approval failed", i, rc);
            break;
        }
        progress_step(r);
    }
    pthread_barrier_wait(&r->end);
}

/* One burst: every signing key once, on server r->wi. */
static bool burst(run *r, e2e_cell *cell, unsigned c)
{
    r->threads = 2; /* prepare: two client threads, unmeasured */
    if (!on_threads(r, 2, prepare_thread))
        return false;
    r->c = r->threads = c;
    if (!on_threads_timed(r, c, burst_thread, cell, r->nsign))
        return false;
    for (unsigned i = 0; i < r->nsign; i++) {
        series_add(&cell->lat, r->keys[i].seconds);
        if (!verify(r, &r->keys[i], i, r->keys[i].digest, r->keys[i].sig, r->keys[i].sig_len))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ a run */

/* Default counts: keys that sign, signings per cell with the partial
 * inline and the rounds they are split into, burst rounds per cell (each
 * signs every key once). */
typedef struct e2e_counts {
    unsigned keys, per_cell, sign_rounds, rounds;
    unsigned enrol_base; /* keys enrolled per enrolment cell, at least (enrol_count) */
} e2e_counts;

static e2e_counts counts(sk_profile p, const e2e_options *o)
{
    e2e_counts n = {.keys = p == SK_PROFILE_8K ? 32 : 64,
                    .per_cell = p == SK_PROFILE_4K ? 240 : p == SK_PROFILE_6K ? 200 : 96,
                    .sign_rounds = 4,
                    .rounds = p == SK_PROFILE_8K ? 5 : 7};
    if (o->quick) {
        n.keys = p == SK_PROFILE_8K ? 8 : 16;
        n.per_cell = p == SK_PROFILE_8K ? 8 : 16;
        n.sign_rounds = 1;
        n.rounds = 1;
    }
    if (o->keys)
        n.keys = o->keys;
    n.enrol_base = n.keys / 4 ? n.keys / 4 : 1;
    return n;
}

/* The server measured first in round `round` of client column ci; the
 * other one follows. */
static unsigned first_server(unsigned round, unsigned ci) { return (round + ci) % E2E_NW; }

static void close_keys(run *r)
{
    for (unsigned i = 0; r->keys != NULL && i < r->nkeys; i++) {
        e2e_key *k = &r->keys[i];
        k->d.c = NULL; /* one of conn[], closed below */
        for (unsigned w = 0; w < E2E_NW; w++) {
            sk_req_client_close(k->conn[w]);
            k->conn[w] = NULL;
        }
        sk_dev_close(&k->d);
        sk_pubkey_free(k->pub);
        k->pub = NULL;
        sodium_memzero(k->sig, sizeof k->sig);
    }
}

static bool run_grids(run *r, e2e_result *res, const e2e_counts *n, const e2e_options *o)
{
    /* enrolment: the keys enrolled in every cell, in order */
    unsigned next = 0;
    for (unsigned ci = 0; ci < E2E_NC; ci++)
        for (unsigned j = 0; j < E2E_NW; j++) {
            unsigned wi = (first_server(0, ci) + j) % E2E_NW, c = e2e_clients[ci];
            unsigned count = enrol_count(n->enrol_base, c);
            stage(r, "enrol", wi, c, count);
            if (!phase_enrol(r, &res->enrol[wi][ci], wi, c, next, count))
                return false;
            next += count;
        }
    res->enrolled = next;

    /* signing with the device partial inline */
    for (unsigned ci = 0; ci < E2E_NC; ci++) {
        unsigned c = e2e_clients[ci];
        unsigned per_client = (n->per_cell + c * n->sign_rounds - 1) / (c * n->sign_rounds);
        for (unsigned round = 0; round < n->sign_rounds; round++)
            for (unsigned j = 0; j < E2E_NW; j++) {
                unsigned wi = (first_server(round, ci) + j) % E2E_NW;
                r->round = round;
                stage(r, "sign", wi, c, c * per_client);
                series *ref = wi == 0 && c == 1 && o->hooks.sign_in_process != NULL
                                  ? &res->in_process
                                  : NULL;
                if (!use_server(r, 0, c, wi) ||
                    !phase_sign(r, &res->sign[wi][ci], c, per_client, ref,
                                &res->in_process_pair_ratio))
                    return false;
            }
    }

    /* server throughput, partials computed ahead */
    unsigned floor_ops = n->keys / 2 ? n->keys / 2 : 1;
    for (unsigned ci = 0; ci < E2E_NC; ci++) {
        unsigned c = e2e_clients[ci];
        for (unsigned round = 0; round < n->rounds; round++) {
            for (unsigned j = 0; j < E2E_NW; j++) {
                unsigned wi = (first_server(round, ci) + j) % E2E_NW;
                r->round = round;
                stage(r, "burst", wi, c, r->nsign);
                if (!use_server(r, 0, r->nsign, wi) || !burst(r, &res->server[wi][ci], c))
                    return false;
            }
            if (ci == E2E_NC - 1) { /* the disk flush, with the servers idle */
                for (unsigned i = 0; i < FLUSH_PER_ROUND; i++) {
                    double t = flush_once(&r->flush, round * FLUSH_PER_ROUND + i);
                    if (t < 0) {
                        fprintf(stderr, "\nsplitkey-bench: e2e: the disk flush failed: %s\n",
                                strerror(errno));
                        return false;
                    }
                    series_add(&res->disk_flush, t);
                }
            }
            if (ci == E2E_NC - 1 && o->hooks.floor_parallel != NULL) {
                fprintf(stderr, "\r[%s] e2e %-12s %14s", r->pn, "floor 1 and 2", "");
                for (unsigned t = 1; t <= 2; t++) {
                    double s = o->hooks.floor_parallel(o->hooks.ctx, t, floor_ops);
                    if (s <= 0) {
                        fprintf(stderr, "\nsplitkey-bench: e2e: the parallel floor failed\n");
                        return false;
                    }
                    res->floor_n[t - 1] += (unsigned long)t * floor_ops;
                    res->floor_s[t - 1] += s;
                }
            }
        }
    }
    return true;
}

bool e2e_run(e2e_result *res, sk_profile profile, const e2e_options *o)
{
    memset(res, 0, sizeof *res); /* every cell's CPU sums start at 0 */
    res->cores = sysconf(_SC_NPROCESSORS_ONLN);
    install_hooks();
    run r;
    memset(&r, 0, sizeof r);
    r.flush.fd = -1; /* not open yet: nothing for the exit path to close */
    r.pn = sk_profile_name(profile);
    r.profile = profile;
    r.hooks = &o->hooks;
    pthread_mutex_init(&r.lock, NULL);
    e2e_counts n = counts(profile, o);
    r.nsign = n.keys;
    for (unsigned ci = 0; ci < E2E_NC; ci++)
        r.nkeys += E2E_NW * enrol_count(n.enrol_base, e2e_clients[ci]);
    r.cfg = (sk_dev_config){.profile = profile, .scheme = SK_SCHEME_PKCS1,
                            .hash = SK_HASH_SHA256, .timeout_ms = 120000, .give_up_s = 0,
                            .run_tag = randombytes_random()};
    bool ok = false;
    r.keys = calloc(r.nkeys, sizeof *r.keys);
    char pub_path[PATH_MAX + 16];
    if (r.keys == NULL || !server_init(o->server_bin))
        goto out;
    snprintf(pub_path, sizeof pub_path, "%s/server.pub", child.dir);
    if (sk_dev_config_load_server_pub(&r.cfg, pub_path) != SK_OK) {
        server_failed("cannot read server.pub", "init.log");
        goto out;
    }
    for (unsigned wi = 0; wi < E2E_NW; wi++)
        if (!server_start(o->server_bin, wi, r.url[wi], sizeof r.url[wi]))
            goto out;
    if (!flush_open(&r.flush)) {
        fprintf(stderr, "\nsplitkey-bench: e2e: cannot write %s/flush.tmp: %s\n", child.dir,
                strerror(errno));
        goto out;
    }
    if (!run_grids(&r, res, &n, o))
        goto out;
    res->keys = r.nsign;
    ok = true;
    for (unsigned wi = 0; wi < E2E_NW; wi++)
        ok = server_stop(wi) && ok;
    res->ran = ok;
out:
    fprintf(stderr, "\r%60s\r", "");
    flush_close(&r.flush);
    close_keys(&r);
    kill_children_now();
    remove_dir();
    free(r.keys);
    pthread_mutex_destroy(&r.lock);
    return ok;
}
