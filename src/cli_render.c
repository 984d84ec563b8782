/* cli_render: tables and times for the command line's human output. */
#include "cli_render.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mem.h"

void cli_table_init(CliTable *t, int ncols, const char *const *head)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    for (int i = 0; i < ncols; i++)
        t->head[i] = head[i];
}

void cli_table_add(CliTable *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = xrealloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof *t->cells);
    }
    for (int i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = xstrdup(cells[i] && *cells[i] ? cells[i] : "-");
    t->nrows++;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void print_row(const CliTable *t, const char *const *row, const size_t *w, FILE *out)
{
    for (int i = 0; i < t->ncols; i++) {
        int last = i == t->ncols - 1;
        fputs(row[i], out);
        for (size_t pad = width_of(row[i]); !last && pad < w[i] + 2; pad++)
            fputc(' ', out);
    }
    fputc('\n', out);
}

void cli_table_print(CliTable *t, FILE *out)
{
    size_t w[CLI_COLS_MAX];
    for (int i = 0; i < t->ncols; i++) {
        w[i] = width_of(t->head[i]);
        for (int r = 0; r < t->nrows; r++) {
            size_t cw = width_of(t->cells[r * t->ncols + i]);
            w[i] = cw > w[i] ? cw : w[i];
        }
    }
    print_row(t, t->head, w, out);
    for (int r = 0; r < t->nrows; r++)
        print_row(t, (const char *const *)t->cells + r * t->ncols, w, out);
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void cli_print_items(const char *const *head, int ncols, json_t *items, CliRowFn row)
{
    CliTable t;
    size_t i;
    json_t *item;
    int64_t now = clock_now_ms();
    cli_table_init(&t, ncols, head);
    json_array_foreach(items, i, item)
    {
        char cells[CLI_COLS_MAX][CLI_CELL_MAX] = {{0}};
        const char *ptrs[CLI_COLS_MAX] = {NULL};
        row(item, now, cells);
        for (int k = 0; k < ncols; k++)
            ptrs[k] = cells[k];
        cli_table_add(&t, ptrs);
    }
    cli_table_print(&t, stdout);
}

void cli_relative(int64_t delta_ms, char *out, size_t len)
{
    int64_t s = (delta_ms < 0 ? -delta_ms : delta_ms) / 1000;
    static const struct {
        int64_t secs;
        const char *unit;
    } units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    if (s == 0) {
        snprintf(out, len, "now");
        return;
    }
    size_t u = 0;
    while (s < units[u].secs)
        u++;
    long long n = (long long)(s / units[u].secs);
    if (delta_ms > 0)
        snprintf(out, len, "in %lld%s", n, units[u].unit);
    else
        snprintf(out, len, "%lld%s ago", n, units[u].unit);
}

void cli_local_time(int64_t ms, int zone, char *out, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    if (strftime(out, len, zone ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S", &tm) == 0 && len)
        out[0] = '\0';
}

void cli_when(const char *at, int64_t now_ms, char *out, size_t len)
{
    int64_t ms;
    if (at == NULL || clock_parse_rfc3339(at, &ms) != 0) {
        snprintf(out, len, "-");
        return;
    }
    char local[64], rel[32];
    cli_local_time(ms, 1, local, sizeof local);
    cli_relative(ms - now_ms, rel, sizeof rel);
    snprintf(out, len, "%s (%s)", local, rel);
}

void cli_first_line(const char *text, size_t width, char *out, size_t len)
{
    size_t n = text ? strcspn(text, "\r\n") : 0, cut = 0, w = 0;
    while (cut < n && w < width) {
        w += ((unsigned char)text[cut] & 0xC0) != 0x80;
        cut++;
    }
    while (cut < n && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut++;
    snprintf(out, len, "%.*s%s", (int)cut, text ? text : "", cut < n ? "…" : "");
}
