/* probe: `dts probe URL`, a health check that needs no shell and no curl. */
#ifndef DTS_PROBE_H
#define DTS_PROBE_H

/* GETs URL (loopback only) within 3 s. Exit code 0 on a 2xx answer, 1 with a
 * one-line reason otherwise, 2 on bad usage. */
int probe_main(int argc, char **argv);

#endif
