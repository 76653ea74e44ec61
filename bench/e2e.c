#define _GNU_SOURCE /* prctl */
/* e2e.c - splitkey-bench's end-to-end measurements: the real
 * splitkey-server as a child process on loopback with the SQLite store,
 * driven over nng by devices of the library's device role (sk_devdrive).
 *
 * Per profile: the server is initialised in a temporary directory; K keys
 * are enrolled (two client threads; the server makes each server key
 * during the request, --pool-size 0); then for 1 and 2 server workers and
 * 1, 2, 4 and 8 client threads two signing modes are measured:
 *   signing            each client its own key and connection, signing back
 *                      to back: session create, approval (the device
 *                      partial computed here, on the same cores as the
 *                      server), signature read;
 *   server throughput  for every key a session is created and its approval
 *                      built ahead (unmeasured); the burst then only sends
 *                      the approvals and reads the signatures, as a server
 *                      serving phones would see it.  The server's CPU time
 *                      (/proc/PID/stat) is read around each burst.
 * Every signature is verified with sk_verify under the key's public key.
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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "devdrive.h"

#define E2E_MAX_THREADS 8 /* the most clients of the grid */

/* ------------------------------------------------------- the server child */

/* Files the server's directory can hold, for removal from a signal handler
 * (only async-signal-safe calls there). */
static const char *const server_files[] = {
    "kx.key",        "master.key",     "server.conf",   "server.pub",
    "sign.key",      "ready",          "server.db",     "server.db-wal",
    "server.db-shm", "server.db-journal", "server.log"};
#define N_SERVER_FILES (sizeof server_files / sizeof server_files[0])

/* The one server the bench runs at a time, for the exit paths. */
static struct {
    char dir[PATH_MAX];
    char file_paths[N_SERVER_FILES][PATH_MAX + 32];
    volatile pid_t pid;
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

static void kill_child_now(void)
{
    pid_t pid = child.pid;
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        child.pid = 0;
    }
}

static void on_signal(int sig)
{
    kill_child_now();
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
    kill_child_now();
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

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs bin with argv, output to DIR/server.log; the child dies with the
 * bench (PR_SET_PDEATHSIG).  Returns the pid or -1. */
static pid_t spawn(const char *bin, char *const *argv)
{
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/server.log", child.dir);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the child: async-signal-safe calls only until exec */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        _exit(127);
    execv(bin, argv);
    _exit(127);
}

/* Reports a failure of the server, with the end of its log (the directory
 * is removed afterwards). */
static bool server_failed(const char *what)
{
    fprintf(stderr, "\nsplitkey-bench: e2e: %s\n", what);
    char path[PATH_MAX + 16], buf[2048];
    snprintf(path, sizeof path, "%s/server.log", child.dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof buf - 1)
        fseek(f, -(long)(sizeof buf - 1), SEEK_END);
    else
        rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n > 0)
        fprintf(stderr, "--- end of the server log\n%s%s---\n", buf,
                buf[n - 1] == '\n' ? "" : "\n");
    return false;
}

/* Waits for pid; returns its exit status, or -1 after timeout_ms. */
static int wait_exit(pid_t pid, unsigned timeout_ms)
{
    for (unsigned waited = 0;; waited += 10) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0 || waited >= timeout_ms)
            return -1;
        sleep_ms(10);
    }
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
    pid_t pid = spawn(bin, argv);
    if (pid < 0)
        return server_failed("cannot fork");
    child.pid = pid;
    int st = wait_exit(pid, 60000);
    child.pid = 0;
    if (st != 0) {
        if (st < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return server_failed(st == 127 ? "cannot run the server binary (--server-bin)"
                                       : "splitkey-server init failed");
    }
    return true;
}

/* `splitkey-server run` with W workers on a free loopback port; url
 * receives the bound URL from the ready file. */
static bool server_start(const char *bin, unsigned workers, char *url, size_t url_cap)
{
    char ready[PATH_MAX + 8], db[PATH_MAX + 24], w[16];
    snprintf(ready, sizeof ready, "%s/ready", child.dir);
    snprintf(db, sizeof db, "sqlite:%s/server.db", child.dir);
    snprintf(w, sizeof w, "%u", workers);
    unlink(ready);
    char *argv[] = {(char *)bin,        (char *)"run",         (char *)"--dir",
                    child.dir,          (char *)"--listen",    (char *)"tcp://127.0.0.1:0",
                    (char *)"--ready-file", ready,             (char *)"--db",
                    db,                 (char *)"--open-enrolment", (char *)"--workers",
                    w,                  (char *)"--pool-size", (char *)"0",
                    NULL};
    pid_t pid = spawn(bin, argv);
    if (pid < 0)
        return server_failed("cannot fork");
    child.pid = pid;
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
            child.pid = 0;
            return server_failed(WIFEXITED(st) && WEXITSTATUS(st) == 127
                                     ? "cannot run the server binary (--server-bin)"
                                     : "the server exited while starting");
        }
        sleep_ms(10);
    }
    kill_child_now();
    return server_failed("the server did not become ready in 30 s");
}

/* SIGTERM, then SIGKILL after 10 s.  True when it stopped cleanly. */
static bool server_stop(void)
{
    pid_t pid = child.pid;
    if (pid <= 0)
        return true;
    kill(pid, SIGTERM);
    int st = wait_exit(pid, 10000);
    if (st < 0) {
        kill_child_now();
        return server_failed("the server did not stop on SIGTERM");
    }
    child.pid = 0;
    return st == 0 ? true : server_failed("the server exited with an error");
}

/* The server's CPU time (user + system) in seconds, or -1. */
static double server_cpu(void)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)child.pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    /* after ")": state (field 3) ... utime is field 14, stime 15 */
    if (p == NULL || sscanf(p + 1,
                            " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------ the devices */

typedef struct e2e_key {
    sk_dev d;
    sk_pubkey *pub;
    uint8_t digest[64];
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len;
    double seconds; /* the last measured call */
    int rc;
} e2e_key;

typedef struct run {
    const char *pn;
    sk_profile profile;
    sk_dev_config cfg;
    char url[256];
    e2e_key *keys;
    unsigned nkeys;
    pthread_mutex_t lock; /* progress, shared counters */
    unsigned done, total;
    const char *stage;
    /* the phase in progress */
    unsigned threads, per_thread, w, c, round;
    series *lat;
    pthread_barrier_t start;
    atomic_bool failed; /* read by every thread */
} run;

static void progress_step(run *r)
{
    pthread_mutex_lock(&r->lock);
    r->done++;
    fprintf(stderr, "\r[%s] e2e %-8s %4u/%-4u  ", r->pn, r->stage, r->done, r->total);
    fflush(stderr);
    pthread_mutex_unlock(&r->lock);
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

static void make_digest(run *r, e2e_key *k, unsigned key, unsigned j, char mode)
{
    char text[160];
    snprintf(text, sizeof text, "splitkey-bench %08x %s %c w%u c%u round %u key %u message %u",
             r->cfg.run_tag, r->pn, mode, r->w, r->c, r->round, key, j);
    if (sk_digest(k->digest, 32, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)) != SK_OK)
        memset(k->digest, 0, sizeof k->digest);
}

static bool verify(run *r, e2e_key *k, unsigned key)
{
    int rc = sk_verify(k->pub, r->cfg.scheme, r->cfg.hash, k->digest, 32, k->sig, k->sig_len);
    if (rc != SK_OK)
        fail(r, "signature does not verify", key, rc);
    return rc == SK_OK;
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

static bool on_threads(run *r, unsigned n, void (*fn)(run *, unsigned))
{
    pthread_t th[E2E_MAX_THREADS];
    thread_arg args[E2E_MAX_THREADS];
    unsigned started = 0;
    for (; started < n; started++) {
        args[started] = (thread_arg){r, started, fn};
        if (pthread_create(&th[started], NULL, thread_main, &args[started]) != 0)
            break;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (started < n) {
        fprintf(stderr, "\nsplitkey-bench: e2e: cannot start a thread\n");
        r->failed = true;
    }
    return !r->failed;
}

/* ---------------------------------------------------------------- enrolment */

static void enrol_thread(run *r, unsigned t)
{
    for (unsigned i = t; i < r->nkeys && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        double t0 = bench_now();
        int rc = sk_dev_enrol(&k->d, i);
        double t1 = bench_now();
        if (rc == SK_OK)
            rc = sk_device_key_pubkey(k->d.key, &k->pub);
        if (rc != SK_OK) {
            fail(r, "enrolment failed", i, rc);
            return;
        }
        k->seconds = t1 - t0;
        progress_step(r);
    }
}

/* ------------------------------------------- signing, device partial inline */

static int sign_one(run *r, e2e_key *k)
{
    sk_device_session *s = NULL;
    int rc = sk_dev_create(&k->d, k->digest, "splitkey-bench", &s, NULL);
    if (rc == SK_OK)
        rc = sk_dev_approve(&k->d, s, k->d.pin, k->sig, &k->sig_len, NULL);
    sk_device_session_free(s);
    return rc;
}

static void sign_thread(run *r, unsigned t)
{
    e2e_key *k = &r->keys[t];
    double *lat = calloc(r->per_thread, sizeof *lat);
    make_digest(r, k, t, 0, 'w'); /* a warm-up signing on the new connection */
    int rc = lat != NULL ? sign_one(r, k) : SK_ERR_NOMEM;
    if (rc == SK_OK && !verify(r, k, t))
        rc = SK_ERR_BAD_SIGNATURE;
    else if (rc != SK_OK)
        fail(r, "warm-up signing failed", t, rc);
    pthread_barrier_wait(&r->start);
    for (unsigned j = 0; rc == SK_OK && j < r->per_thread && !r->failed; j++) {
        make_digest(r, k, t, j, 's');
        double t0 = bench_now();
        rc = sign_one(r, k);
        lat[j] = bench_now() - t0;
        if (rc != SK_OK)
            fail(r, "signing failed", t, rc);
        else
            progress_step(r);
        /* verified at once: sk_verify is a fraction of a percent of a signing */
        if (rc == SK_OK && !verify(r, k, t))
            rc = SK_ERR_BAD_SIGNATURE;
    }
    if (rc == SK_OK) {
        pthread_mutex_lock(&r->lock);
        for (unsigned j = 0; j < r->per_thread; j++)
            series_add(r->lat, lat[j]);
        pthread_mutex_unlock(&r->lock);
    }
    free(lat);
}

static bool phase_sign(run *r, e2e_cell *cell, unsigned clients, unsigned per_client)
{
    r->threads = clients;
    r->per_thread = per_client;
    r->lat = &cell->lat;
    r->round = 0;
    if (pthread_barrier_init(&r->start, NULL, clients + 1) != 0)
        return false;
    pthread_t th[E2E_MAX_THREADS];
    thread_arg args[E2E_MAX_THREADS];
    unsigned started = 0;
    for (; started < clients; started++) {
        args[started] = (thread_arg){r, started, sign_thread};
        if (pthread_create(&th[started], NULL, thread_main, &args[started]) != 0)
            break;
    }
    if (started < clients) {
        /* the barrier cannot complete: fail the run */
        fprintf(stderr, "\nsplitkey-bench: e2e: cannot start a thread\n");
        exit(1);
    }
    pthread_barrier_wait(&r->start); /* every client has warmed up */
    double cpu0 = server_cpu(), t0 = bench_now();
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double t1 = bench_now(), cpu1 = server_cpu();
    pthread_barrier_destroy(&r->start);
    cell->n += (unsigned long)clients * per_client;
    cell->seconds += t1 - t0;
    cell->server_cpu_s = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    return !r->failed;
}

/* ------------------------------------ server throughput, partials ahead */

static void prepare_thread(run *r, unsigned t)
{
    for (unsigned i = t; i < r->nkeys && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        sk_device_session *s = NULL;
        make_digest(r, k, i, 0, 'p');
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
    for (unsigned i = t; i < r->nkeys && !r->failed; i += r->threads) {
        e2e_key *k = &r->keys[i];
        double t0 = bench_now();
        k->rc = sk_dev_approve_send(&k->d, k->d.pin, k->sig, &k->sig_len, NULL);
        k->seconds = bench_now() - t0;
        if (k->rc != SK_OK)
            fail(r, "approval failed", i, k->rc);
        else
            progress_step(r);
    }
}

static bool phase_server(run *r, e2e_cell *cell, unsigned clients, unsigned rounds)
{
    double cpu = 0;
    bool cpu_ok = true;
    for (unsigned round = 0; round < rounds && !r->failed; round++) {
        r->round = round;
        r->threads = 2; /* prepare: two client threads */
        if (!on_threads(r, 2, prepare_thread))
            return false;
        r->threads = clients;
        double cpu0 = server_cpu(), t0 = bench_now();
        if (!on_threads(r, clients, burst_thread))
            return false;
        double t1 = bench_now(), cpu1 = server_cpu();
        cell->seconds += t1 - t0;
        cell->n += r->nkeys;
        if (cpu0 < 0 || cpu1 < 0)
            cpu_ok = false;
        cpu += cpu1 - cpu0;
        for (unsigned i = 0; i < r->nkeys; i++) {
            series_add(&cell->lat, r->keys[i].seconds);
            if (!verify(r, &r->keys[i], i))
                return false;
        }
    }
    cell->server_cpu_s = cpu_ok ? cpu : -1;
    return !r->failed;
}

/* ------------------------------------------------------------------ a run */

static bool reconnect_all(run *r)
{
    r->cfg.url = r->url;
    for (unsigned i = 0; i < r->nkeys; i++) {
        int rc = r->keys[i].d.c == NULL ? sk_dev_open(&r->keys[i].d, &r->cfg, SK_PURPOSE_SIGN)
                                        : sk_dev_reconnect(&r->keys[i].d);
        if (rc != SK_OK) {
            fail(r, "cannot connect", i, rc);
            return false;
        }
    }
    return true;
}

static void stage(run *r, const char *name, unsigned total)
{
    r->stage = name;
    r->done = 0;
    r->total = total;
}

/* Default counts: keys, signings per cell with the partial inline, and
 * burst rounds per cell (each signs every key once). */
static void counts(sk_profile p, const e2e_options *o, unsigned *keys, unsigned *per_cell,
                   unsigned *rounds)
{
    *keys = p == SK_PROFILE_8K ? 32 : 64;
    *per_cell = p == SK_PROFILE_4K ? 240 : p == SK_PROFILE_6K ? 200 : 96;
    *rounds = p == SK_PROFILE_8K ? 4 : 5;
    if (o->quick) {
        *keys = p == SK_PROFILE_8K ? 8 : 16;
        *per_cell = p == SK_PROFILE_8K ? 8 : 16;
        *rounds = 1;
    }
    if (o->keys)
        *keys = o->keys;
}

bool e2e_run(e2e_result *res, sk_profile profile, const e2e_options *o)
{
    memset(res, 0, sizeof *res);
    res->cores = sysconf(_SC_NPROCESSORS_ONLN);
    install_hooks();
    run r;
    memset(&r, 0, sizeof r);
    r.pn = sk_profile_name(profile);
    r.profile = profile;
    pthread_mutex_init(&r.lock, NULL);
    unsigned per_cell = 0, rounds = 0;
    counts(profile, o, &r.nkeys, &per_cell, &rounds);
    r.cfg = (sk_dev_config){.profile = profile, .scheme = SK_SCHEME_PKCS1,
                            .hash = SK_HASH_SHA256, .timeout_ms = 120000, .give_up_s = 0,
                            .run_tag = randombytes_random()};
    bool ok = false;
    r.keys = calloc(r.nkeys, sizeof *r.keys);
    char pub_path[PATH_MAX + 16], label[32];
    if (r.keys == NULL || !server_init(o->server_bin))
        goto out;
    snprintf(pub_path, sizeof pub_path, "%s/server.pub", child.dir);
    if (sk_dev_config_load_server_pub(&r.cfg, pub_path) != SK_OK) {
        server_failed("cannot read server.pub");
        goto out;
    }

    /* enrolment, with two workers so that both clients are served at once */
    stage(&r, "enrol", r.nkeys);
    r.threads = 2;
    if (!server_start(o->server_bin, 2, r.url, sizeof r.url) || !reconnect_all(&r) ||
        !on_threads(&r, 2, enrol_thread))
        goto out;
    res->keys = r.nkeys;
    for (unsigned i = 0; i < r.nkeys; i++)
        series_add(&res->enrol, r.keys[i].seconds);

    for (unsigned wi = 0; wi < E2E_NW; wi++) {
        r.w = e2e_workers[wi];
        if (!server_stop() || !server_start(o->server_bin, r.w, r.url, sizeof r.url) ||
            !reconnect_all(&r))
            goto out;
        for (unsigned ci = 0; ci < E2E_NC; ci++) {
            unsigned c = r.c = e2e_clients[ci];
            unsigned per_client = (per_cell + c - 1) / c;
            snprintf(label, sizeof label, "w%u c%u", r.w, c);
            stage(&r, label, c * per_client);
            if (!phase_sign(&r, &res->sign[wi][ci], c, per_client))
                goto out;
            snprintf(label, sizeof label, "w%u c%u sv", r.w, c);
            stage(&r, label, rounds * r.nkeys);
            if (!phase_server(&r, &res->server[wi][ci], c, rounds))
                goto out;
        }
    }
    ok = server_stop();
    res->ran = ok;
out:
    fprintf(stderr, "\r%60s\r", "");
    kill_child_now();
    remove_dir();
    for (unsigned i = 0; r.keys != NULL && i < r.nkeys; i++) {
        sk_dev_close(&r.keys[i].d);
        sk_pubkey_free(r.keys[i].pub);
        sodium_memzero(r.keys[i].sig, sizeof r.keys[i].sig);
    }
    free(r.keys);
    pthread_mutex_destroy(&r.lock);
    return ok;
}
