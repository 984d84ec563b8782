/* api: the `dts api` role. */
#ifndef DTS_API_H
#define DTS_API_H

/* Runs the role until SIGINT or SIGTERM; returns the process exit code. */
int api_main(int argc, char **argv);

#endif
