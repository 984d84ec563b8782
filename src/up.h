/* up: the `dts up` role. */
#ifndef DTS_UP_H
#define DTS_UP_H

/* Runs the role until SIGINT or SIGTERM; returns the process exit code. */
int up_main(int argc, char **argv);

#endif
