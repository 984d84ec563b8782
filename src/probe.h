/* probe: `dts probe URL`, a health check that needs no shell and no curl. */
#ifndef DTS_PROBE_H
#define DTS_PROBE_H

#include <stddef.h>

/* `dts probe [URL]`: GETs URL (loopback only) within 3 s; without a URL, the
 * /healthz of this process's DTS_LISTEN (what a container's role serves on).
 * Exit code 0 on a 2xx answer, 1 with a one-line reason otherwise, 2 on bad
 * usage or no DTS_LISTEN. */
int probe_main(int argc, char **argv);

/* Writes into URL (LEN bytes) the /healthz URL of the listen address LISTEN
 * (HOST:PORT), with a wildcard host (0.0.0.0, [::] or none) probed on
 * loopback. Returns 0, or -1 for an empty or portless LISTEN or too small a
 * buffer. Pure. */
int probe_listen_url(const char *listen, char *url, size_t len);

#endif
