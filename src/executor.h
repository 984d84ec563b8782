/* executor: the `dts executor` role. */
#ifndef DTS_EXECUTOR_H
#define DTS_EXECUTOR_H

/* Runs the role until SIGINT or SIGTERM; returns the process exit code. */
int executor_main(int argc, char **argv);

#endif
