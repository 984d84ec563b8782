/* cli_render: what the command line shows people: aligned tables and times in
 * local time with a relative hint ("2026-12-02 04:00 CET (in 7h)"). */
#ifndef DTS_CLI_RENDER_H
#define DTS_CLI_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_COLS_MAX 8
#define CLI_CELL_MAX 256

/* A table being filled; cells are copied in. */
typedef struct CliTable {
    int ncols;
    const char *head[CLI_COLS_MAX];
    char **cells; /* nrows * ncols strings */
    int nrows, cap;
} CliTable;

/* Starts an empty table with NCOLS headings (static strings). */
void cli_table_init(CliTable *t, int ncols, const char *const *head);

/* Appends a row of t->ncols cells (NULL shows as "-"). */
void cli_table_add(CliTable *t, const char *const *cells);

/* Prints the table with aligned columns on OUT, then frees its cells. */
void cli_table_print(CliTable *t, FILE *out);

/* Fills the cells of one row for ITEM ("" shows as "-"); NOW_MS is the time
 * relative hints are against. */
typedef void (*CliRowFn)(json_t *item, int64_t now_ms, char cells[CLI_COLS_MAX][CLI_CELL_MAX]);

/* Prints the JSON array ITEMS as a table with NCOLS HEAD columns, one row each. */
void cli_print_items(const char *const *head, int ncols, json_t *items, CliRowFn row);

/* Writes DELTA_MS as "in 3h", "5m ago" or "now" into OUT (LEN bytes). */
void cli_relative(int64_t delta_ms, char *out, size_t len);

/* Writes MS as local time, "2026-12-02 04:00:00", with the zone's
 * abbreviation after it when ZONE is set, into OUT (LEN bytes). */
void cli_local_time(int64_t ms, int zone, char *out, size_t len);

/* Writes the RFC 3339 instant AT as local time with its zone and a relative
 * hint against NOW_MS ("2026-12-02 04:00:00 CET (in 7h)"), or "-" when AT
 * is NULL or not an instant. */
void cli_when(const char *at, int64_t now_ms, char *out, size_t len);

/* Writes the first line of TEXT, cut to WIDTH characters with "…", into OUT. */
void cli_first_line(const char *text, size_t width, char *out, size_t len);

#endif
