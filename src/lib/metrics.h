/* metrics: counters, gauges and histograms rendered in the Prometheus text format.
 * Debian has no Prometheus client library for C and the format is small, so it
 * lives here, in one module. */
#ifndef DTS_METRICS_H
#define DTS_METRICS_H

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } MetricType;

/* Declares a family with its type and help text; call before first use.
 * Histograms use fixed buckets in seconds: 1, 2, 5, 10, 25, 50, 100, 250,
 * 500 ms, 1, 2.5, 5, 10, 30 and 60 s. */
void metrics_declare(const char *name, MetricType type, const char *help);

/* Adds V to a counter series, sets a gauge series, or observes V in a
 * histogram series. LABELS is the label text without braces
 * ("outcome=\"succeeded\"") or NULL. Thread-safe. */
void metrics_add(const char *name, const char *labels, double v);
void metrics_set(const char *name, const char *labels, double v);
void metrics_observe(const char *name, const char *labels, double v);

/* Renders every series; the caller frees the text with free(). */
char *metrics_render(void);

#endif
