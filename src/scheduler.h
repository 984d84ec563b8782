/* scheduler: the `dts scheduler` role. */
#ifndef DTS_SCHEDULER_H
#define DTS_SCHEDULER_H

/* Runs the role until SIGINT or SIGTERM; returns the process exit code. */
int scheduler_main(int argc, char **argv);

#endif
