/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
/* stats.c - timing series: monotonic clock, median and quantiles. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void series_add(series *s, double seconds)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        double *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            abort();
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = seconds;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double series_quantile(const series *s, double q)
{
    if (s->n == 0)
        return 0;
    double *v = malloc(s->n * sizeof *v);
    if (v == NULL)
        abort();
    memcpy(v, s->v, s->n * sizeof *v);
    qsort(v, s->n, sizeof *v, cmp_double);
    /* nearest-rank with linear interpolation */
    double pos = q * (double)(s->n - 1);
    size_t i = (size_t)pos;
    double frac = pos - (double)i;
    double r = i + 1 < s->n ? v[i] + frac * (v[i + 1] - v[i]) : v[i];
    free(v);
    return r;
}

double series_median(const series *s) { return series_quantile(s, 0.5); }
double series_min(const series *s) { return series_quantile(s, 0.0); }
double series_max(const series *s) { return series_quantile(s, 1.0); }

void series_free(series *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* ------------------------------------------------- end-to-end cells */

const unsigned e2e_workers[E2E_NW] = {1, 2};
const unsigned e2e_clients[E2E_NC] = {1, 2, 4, 8};

double e2e_rate(const e2e_cell *c) { return c->seconds > 0 ? (double)c->n / c->seconds : 0; }

double e2e_cpu_ms(const e2e_cell *c)
{
    return c->server_cpu_s >= 0 && c->n > 0 ? c->server_cpu_s * 1e3 / (double)c->n : -1;
}

double e2e_client_cpu_ms(const e2e_cell *c)
{
    return c->client_cpu_s >= 0 && c->n > 0 ? c->client_cpu_s * 1e3 / (double)c->n : -1;
}

double e2e_idle(const e2e_cell *c, long cores)
{
    if (c->idle_s < 0 || c->seconds <= 0 || cores <= 0)
        return -1;
    /* /proc/stat counts in ticks of 10 ms: over a short phase the count can
     * pass the phase's length, or, with the in-process signings' idle taken
     * out, fall below 0 */
    double v = c->idle_s / (c->seconds * (double)cores);
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

double e2e_paired_ratio(const e2e_cell *a, const e2e_cell *b)
{
    if (a->round_rate.n == 0 || a->round_rate.n != b->round_rate.n)
        return 0; /* not measured in pairs */
    series q = {0};
    for (size_t i = 0; i < a->round_rate.n; i++)
        if (a->round_rate.v[i] > 0 && b->round_rate.v[i] > 0)
            series_add(&q, a->round_rate.v[i] / b->round_rate.v[i]);
    double m = q.n ? series_median(&q) : 0;
    series_free(&q);
    return m;
}

double e2e_floor_scaling(const e2e_result *r)
{
    if (r->floor_n[0] == 0 || r->floor_n[1] == 0 || r->floor_s[0] <= 0 || r->floor_s[1] <= 0)
        return 0;
    return ((double)r->floor_n[1] / r->floor_s[1]) / ((double)r->floor_n[0] / r->floor_s[0]);
}

void e2e_free(e2e_result *r)
{
    series_free(&r->in_process);
    series_free(&r->in_process_pair_ratio);
    series_free(&r->disk_flush);
    for (int w = 0; w < E2E_NW; w++)
        for (int c = 0; c < E2E_NC; c++) {
            series_free(&r->enrol[w][c].lat);
            series_free(&r->sign[w][c].lat);
            series_free(&r->server[w][c].lat);
            series_free(&r->enrol[w][c].round_rate);
            series_free(&r->sign[w][c].round_rate);
            series_free(&r->server[w][c].round_rate);
        }
}
