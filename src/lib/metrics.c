/* metrics: counters, gauges and histograms rendered in the Prometheus text format. */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

#define MAX_FAMILIES 64
#define MAX_SERIES 512

/* Lateness is measured in milliseconds: the low buckets resolve them. */
static const double buckets[] = {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5,   1,     2.5,   5,    10,    30,   60};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

typedef struct Family {
    const char *name, *help;
    MetricType type;
} Family;

typedef struct Series {
    const Family *family;
    char *labels;
    double value, sum;
    unsigned long long counts[NBUCKETS + 1], total;
} Series;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Family families[MAX_FAMILIES];
static int nfamilies;
static Series series[MAX_SERIES];
static int nseries;

void metrics_declare(const char *name, MetricType type, const char *help)
{
    pthread_mutex_lock(&lock);
    int known = 0;
    for (int i = 0; i < nfamilies; i++)
        known |= strcmp(families[i].name, name) == 0;
    if (!known && nfamilies < MAX_FAMILIES)
        families[nfamilies++] = (Family){name, help, type};
    pthread_mutex_unlock(&lock);
}

/* Finds or creates the series; called with the lock held. NULL if undeclared. */
static Series *series_get(const char *name, const char *labels)
{
    labels = labels ? labels : "";
    for (int i = 0; i < nseries; i++)
        if (strcmp(series[i].family->name, name) == 0 && strcmp(series[i].labels, labels) == 0)
            return &series[i];
    for (int i = 0; i < nfamilies && nseries < MAX_SERIES; i++) {
        if (strcmp(families[i].name, name) == 0) {
            Series *s = &series[nseries++];
            s->family = &families[i];
            s->labels = xstrdup(labels);
            return s;
        }
    }
    return NULL;
}

void metrics_add(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&lock);
    Series *s = series_get(name, labels);
    if (s != NULL)
        s->value += v;
    pthread_mutex_unlock(&lock);
}

void metrics_set(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&lock);
    Series *s = series_get(name, labels);
    if (s != NULL)
        s->value = v;
    pthread_mutex_unlock(&lock);
}

void metrics_observe(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&lock);
    Series *s = series_get(name, labels);
    if (s != NULL) {
        size_t b = 0;
        while (b < NBUCKETS && v > buckets[b])
            b++;
        s->counts[b]++;
        s->total++;
        s->sum += v;
    }
    pthread_mutex_unlock(&lock);
}

static void render_histogram(Buf *o, const Series *s)
{
    const char *sep = s->labels[0] ? "," : "";
    unsigned long long cum = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) {
        cum += s->counts[b];
        if (b < NBUCKETS)
            buf_addf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", s->family->name, s->labels, sep, buckets[b],
                     cum);
        else
            buf_addf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", s->family->name, s->labels, sep, cum);
    }
    buf_addf(o, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", s->family->name, s->labels, s->sum, s->family->name,
             s->labels, s->total);
}

char *metrics_render(void)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    Buf o = {0};
    pthread_mutex_lock(&lock);
    for (int f = 0; f < nfamilies; f++) {
        buf_addf(&o, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help, families[f].name,
                 types[families[f].type]);
        for (int i = 0; i < nseries; i++) {
            const Series *s = &series[i];
            if (s->family != &families[f])
                continue;
            if (s->family->type == METRIC_HISTOGRAM)
                render_histogram(&o, s);
            else if (s->labels[0])
                buf_addf(&o, "%s{%s} %.17g\n", s->family->name, s->labels, s->value);
            else
                buf_addf(&o, "%s %.17g\n", s->family->name, s->value);
        }
    }
    pthread_mutex_unlock(&lock);
    return buf_take(&o, NULL);
}
