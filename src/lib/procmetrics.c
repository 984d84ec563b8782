/* procmetrics: process_* figures as the Prometheus client libraries define them. */
#include "procmetrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics.h"

void procmetrics_declare(void)
{
    metrics_declare("process_cpu_seconds_total", METRIC_COUNTER,
                    "Total user and system CPU time spent in seconds.");
    metrics_declare("process_resident_memory_bytes", METRIC_GAUGE, "Resident memory size in bytes.");
    metrics_declare("process_virtual_memory_bytes", METRIC_GAUGE, "Virtual memory size in bytes.");
    metrics_declare("process_open_fds", METRIC_GAUGE, "Number of open file descriptors.");
    metrics_declare("process_max_fds", METRIC_GAUGE, "Maximum number of open file descriptors.");
    metrics_declare("process_start_time_seconds", METRIC_GAUGE,
                    "Start time of the process since unix epoch in seconds.");
}

/* The system's boot time in seconds since the epoch (btime in /proc/stat), or -1. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    double btime = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        /* NOLINTNEXTLINE(cert-err34-c): the kernel writes /proc/stat; the conversion count is checked */
        if (sscanf(line, "btime %lf", &btime) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return btime;
}

/* Start time from /proc/self/stat's 22nd field (clock ticks after boot). */
static void start_time(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ticks;
    double btime = boot_time();
    /* after ")": state(3) then fields 4..21, then starttime(22) */
    if (p != NULL && btime > 0 &&
        /* NOLINTNEXTLINE(cert-err34-c): the kernel writes /proc/self/stat; the conversion count is checked */
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &ticks) == 1)
        metrics_set("process_start_time_seconds", NULL,
                    btime + (double)ticks / (double)sysconf(_SC_CLK_TCK));
}

static void memory(void)
{
    unsigned long long pages_virt, pages_res;
    FILE *f = fopen("/proc/self/statm", "r");
    /* NOLINTNEXTLINE(cert-err34-c): the kernel writes /proc/self/statm; the conversion count is checked */
    if (f != NULL && fscanf(f, "%llu %llu", &pages_virt, &pages_res) == 2) {
        double page = (double)sysconf(_SC_PAGESIZE);
        metrics_set("process_virtual_memory_bytes", NULL, (double)pages_virt * page);
        metrics_set("process_resident_memory_bytes", NULL, (double)pages_res * page);
    }
    if (f != NULL)
        fclose(f);
}

static void fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct rlimit rl;
    if (d != NULL) {
        long n = -1; /* the directory's own descriptor is not counted */
        while (readdir(d) != NULL)
            n++;
        closedir(d);
        metrics_set("process_open_fds", NULL, (double)(n - 2)); /* nor "." and ".." */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metrics_set("process_max_fds", NULL, (double)rl.rlim_cur);
}

void procmetrics_update(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        metrics_set("process_cpu_seconds_total", NULL,
                    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    memory();
    fds();
    start_time();
}
