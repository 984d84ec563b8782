/* procmetrics: the standard process_* metric families, read from /proc (Linux). */
#ifndef DTS_PROCMETRICS_H
#define DTS_PROCMETRICS_H

/* Declares process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds and
 * process_start_time_seconds with the metrics module. Call once at start-up. */
void procmetrics_declare(void);

/* Sets them to this process's current figures; call before metrics_render.
 * A figure /proc cannot give is left as it was. Thread-safe. */
void procmetrics_update(void);

#endif
