/* cron_parse: text to CronExpr, with errors that name the field and the column. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "cron_private.h"

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_COUNT };

typedef struct FieldDef {
    const char *name;
    int lo, hi;
} FieldDef;

static const FieldDef cron_fields[F_COUNT] = {
    {"second", 0, 59},       {"minute", 0, 59}, {"hour", 0, 23},
    {"day-of-month", 1, 31}, {"month", 1, 12},  {"day-of-week", 0, 7},
};

static const char *const month_names[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[7] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* Parser state: the whole text (for columns), the field being read, the error. */
typedef struct Parser {
    const char *text;
    int field;   /* F_* or -1 outside fields */
    int nfields; /* 5 or 6: how columns are numbered for the user */
    char *err;
    size_t errlen;
} Parser;

/* Writes "<field> field (field N, column C): <message>" and returns -1. */
__attribute__((format(printf, 3, 4))) static int parse_fail(Parser *p, const char *at, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int col = (int)(at - p->text) + 1;
    if (p->field < 0) {
        snprintf(p->err, p->errlen, "column %d: %s", col, msg);
    } else {
        int num = p->field + 1 - (p->nfields == 5);
        snprintf(p->err, p->errlen, "%s field (field %d, column %d): %s", cron_fields[p->field].name, num,
                 col, msg);
    }
    return -1;
}

/* Reads a number or a month/day name in [s, end). Returns the end or NULL. */
static const char *parse_value(Parser *p, const char *s, const char *end, int *out)
{
    const FieldDef *f = &cron_fields[p->field];
    const char *q = s;
    if (q < end && isdigit((unsigned char)*q)) {
        long v = 0;
        for (; q < end && isdigit((unsigned char)*q); q++) {
            v = v * 10 + (*q - '0');
            if (v > 1000)
                break;
        }
        if (v < f->lo || v > f->hi) {
            parse_fail(p, s, "value %.*s out of range %d-%d", (int)(q - s), s, f->lo, f->hi);
            return NULL;
        }
        *out = (int)v;
        return q;
    }
    while (q < end && isalpha((unsigned char)*q))
        q++;
    const char *const *names = p->field == F_MON ? month_names : p->field == F_DOW ? day_names : NULL;
    int count = p->field == F_MON ? 12 : 7, base = p->field == F_MON ? 1 : 0;
    for (int i = 0; names && q - s == 3 && i < count; i++) {
        if (strncasecmp(s, names[i], 3) == 0) {
            *out = i + base;
            return q;
        }
    }
    if (q == s)
        parse_fail(p, s, "expected a number%s", names ? " or a name" : "");
    else
        parse_fail(p, s, "unknown name \"%.*s\"", (int)(q - s), s);
    return NULL;
}

/* Reads an unsigned number in [lo, hi] that must end the item (or be followed by STOP). */
static const char *parse_number(Parser *p, const char *s, const char *end, int lo, int hi, const char *what,
                                int *out)
{
    const char *q = s;
    long v = 0;
    for (; q < end && isdigit((unsigned char)*q) && v <= 1000; q++)
        v = v * 10 + (*q - '0');
    if (q == s || v < lo || v > hi) {
        parse_fail(p, s, "%s must be %d-%d", what, lo, hi);
        return NULL;
    }
    *out = (int)v;
    return q;
}

/* Day-of-month specials: "L", "L-n", "LW" and "nW". Returns 1 if handled, 0 if
 * the item is not special, -1 on error. */
static int parse_dom_special(Parser *p, const char *s, const char *end, CronExpr *e)
{
    size_t len = (size_t)(end - s);
    int n;
    if (toupper((unsigned char)s[0]) == 'L') {
        if (len == 1) {
            e->dom_last |= 1;
        } else if (len == 2 && toupper((unsigned char)s[1]) == 'W') {
            e->dom_lw = 1;
        } else if (s[1] == '-') {
            const char *q = parse_number(p, s + 2, end, 0, 30, "n in L-n", &n);
            if (!q)
                return -1;
            if (q != end)
                return parse_fail(p, q, "unexpected \"%.*s\" after L-n", (int)(end - q), q);
            e->dom_last |= 1u << n;
        } else {
            return parse_fail(p, s, "expected L, L-n or LW");
        }
        return 1;
    }
    if (len >= 2 && toupper((unsigned char)end[-1]) == 'W' && isdigit((unsigned char)s[0])) {
        const char *q = parse_number(p, s, end - 1, 1, 31, "n in nW", &n);
        if (!q)
            return -1;
        if (q != end - 1)
            return parse_fail(p, q, "expected nW (nearest weekday to day n)");
        e->dom_wday |= 1u << n;
        return 1;
    }
    return 0;
}

/* Day-of-week specials: "d#n" and "dL". Returns 1, 0 or -1 as above. */
static int parse_dow_special(Parser *p, const char *s, const char *end, CronExpr *e)
{
    const char *hash = memchr(s, '#', (size_t)(end - s));
    int d, n;
    if (hash) {
        const char *q = parse_value(p, s, hash, &d);
        if (!q)
            return -1;
        if (q != hash)
            return parse_fail(p, q, "unexpected \"%c\" before #", *q);
        if (!(q = parse_number(p, hash + 1, end, 1, 5, "n in d#n", &n)))
            return -1;
        if (q != end)
            return parse_fail(p, q, "unexpected \"%.*s\" after d#n", (int)(end - q), q);
        e->dow_nth[d % 7] |= (uint8_t)(1u << n);
        return 1;
    }
    if (end - s >= 2 && toupper((unsigned char)end[-1]) == 'L') {
        const char *q = parse_value(p, s, end - 1, &d);
        if (!q)
            return -1;
        if (q != end - 1)
            return parse_fail(p, q, "expected dL (last weekday d of the month)");
        e->dow_last |= 1u << (d % 7);
        return 1;
    }
    return 0;
}

/* One list item: "*", "?", "v", "a-b", each with an optional "/step". */
static int parse_range(Parser *p, const char *s, const char *end, uint64_t *mask)
{
    const FieldDef *f = &cron_fields[p->field];
    int lo = f->lo, hi = f->hi, step = 1;
    const char *q = s;
    if (*q == '*' || *q == '?') {
        if (*q == '?' && (p->field != F_DOM && p->field != F_DOW))
            return parse_fail(p, q, "\"?\" is only allowed in the day fields");
        q++;
    } else {
        if (!(q = parse_value(p, q, end, &lo)))
            return -1;
        hi = lo;
        if (q < end && *q == '-') {
            const char *b = q + 1;
            if (!(q = parse_value(p, b, end, &hi)))
                return -1;
            if (hi < lo)
                return parse_fail(p, s, "range %.*s runs backwards", (int)(q - s), s);
        } else if (q < end && *q == '/') {
            hi = f->hi;
        }
    }
    if (q < end && *q == '/') {
        const char *st = q + 1;
        if (!(q = parse_number(p, st, end, 1, f->hi - f->lo + 1, "step", &step)))
            return -1;
    }
    if (q != end)
        return parse_fail(p, q, "unexpected \"%.*s\"", (int)(end - q), q);
    for (int v = lo; v <= hi; v += step)
        *mask |= UINT64_C(1) << v;
    return 0;
}

/* Parses one field [s, end) into *mask (and the day specials into e). */
static int parse_field(Parser *p, const char *s, const char *end, uint64_t *mask, CronExpr *e)
{
    *mask = 0;
    for (const char *item = s; item <= end;) {
        const char *comma = memchr(item, ',', (size_t)(end - item));
        const char *iend = comma ? comma : end;
        if (iend == item)
            return parse_fail(p, item, "empty list item");
        int r = 0;
        if (p->field == F_DOM)
            r = parse_dom_special(p, item, iend, e);
        else if (p->field == F_DOW)
            r = parse_dow_special(p, item, iend, e);
        if (r < 0 || (r == 0 && parse_range(p, item, iend, mask) < 0))
            return -1;
        item = iend + 1;
    }
    return 0;
}

/* "@every 1h30m": a sum of number+unit terms (d, h, m, s, ms), 1 s to 10 years. */
static int parse_every(Parser *p, const char *s, CronExpr *e)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    int64_t total = 0;
    if (!*s)
        return parse_fail(p, s, "@every needs a duration such as 90s or 1h30m");
    while (*s && !isspace((unsigned char)*s)) {
        const char *num = s;
        int64_t v = 0;
        for (; isdigit((unsigned char)*s); s++)
            v = v < INT64_C(1) << 40 ? v * 10 + (*s - '0') : v; /* large stays large */
        if (s == num)
            return parse_fail(p, s, "expected a number in the @every duration");
        size_t i = 0;
        for (; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].unit);
            if (strncasecmp(s, units[i].unit, n) == 0 && !isalpha((unsigned char)s[n]))
                break;
        }
        if (i == sizeof units / sizeof units[0])
            return parse_fail(p, s, "expected a unit d, h, m, s or ms");
        const int64_t max = INT64_C(3650) * 86400000;
        if (v > max / units[i].ms || (total += v * units[i].ms) > max)
            return parse_fail(p, num, "@every duration is longer than 3650 days");
        s += strlen(units[i].unit);
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return parse_fail(p, s, "unexpected text after the @every duration");
    if (total < 1000)
        return parse_fail(p, s, "@every duration is shorter than 1s");
    e->every_ms = total;
    return 0;
}

/* The macros, as six-field expressions. */
static const char *parse_macro(const char *name, size_t len)
{
    static const struct {
        const char *name, *expr;
    } macros[] = {{"@yearly", "0 0 0 1 1 *"}, {"@annually", "0 0 0 1 1 *"}, {"@monthly", "0 0 0 1 * *"},
                  {"@weekly", "0 0 0 * * 0"}, {"@daily", "0 0 0 * * *"},    {"@midnight", "0 0 0 * * *"},
                  {"@hourly", "0 0 * * * *"}};
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++) {
        if (strlen(macros[i].name) == len && strncasecmp(name, macros[i].name, len) == 0)
            return macros[i].expr;
    }
    return NULL;
}

/* Splits S into at most 7 whitespace-separated fields. Returns the count. */
static int split_fields(const char *s, const char *start[7], const char *end[7])
{
    int n = 0;
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || n == 7)
            return *s ? n + 1 : n;
        start[n] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        end[n++] = s;
    }
}

/* Fills e from the 5 or 6 fields; 5 fields mean second 0. */
static int parse_fields(Parser *p, const char *text, CronExpr *e)
{
    const char *start[7], *end[7];
    int n = split_fields(text, start, end);
    if (n != 5 && n != 6) {
        return parse_fail(p, text,
                          "expected 5 fields (minute hour day-of-month month "
                          "day-of-week), 6 with a leading second, or a @macro");
    }
    p->nfields = n;
    uint64_t mask[F_COUNT] = {1, 0, 0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        p->field = i + (n == 5);
        if (parse_field(p, start[i], end[i], &mask[p->field], e) < 0)
            return -1;
    }
    p->field = -1;
    e->sec = mask[F_SEC];
    e->min = mask[F_MIN];
    e->hour = (uint32_t)mask[F_HOUR];
    e->dom = (uint32_t)mask[F_DOM];
    e->month = (uint32_t)mask[F_MON];
    e->dow = (uint32_t)((mask[F_DOW] | mask[F_DOW] >> 7) & 0x7f);
    e->dom_any = e->dom == 0xfffffffeu;
    e->dow_any = e->dow == 0x7f;
    e->hourly = e->hour == 0xffffff;
    return 0;
}

/* A calendar expression fires at least once in every 400-year cycle or never. */
static int cron_can_fire(const CronExpr *e)
{
    for (int y = 2000; y < 2400; y++) {
        for (int m = 1; m <= 12; m++) {
            if ((e->month >> m & 1) && cron_month_days(e, y, m))
                return 1;
        }
    }
    return 0;
}

/* A text starting with '@': "@every ..." fills e and returns 1; a macro
 * replaces *s by its fields and returns 0; anything else returns -1. */
static int parse_at(Parser *p, const char **s, CronExpr *e)
{
    size_t len = strcspn(*s, " \t\r\n\v\f");
    const char *at = *s, *rest = at + len;
    while (isspace((unsigned char)*rest))
        rest++;
    if (len == 6 && strncasecmp(at, "@every", 6) == 0)
        return parse_every(p, rest, e) < 0 ? -1 : 1;
    const char *expr = parse_macro(at, len);
    if (!expr)
        return parse_fail(p, at, "unknown macro \"%.*s\"", (int)len, at);
    if (*rest)
        return parse_fail(p, rest, "unexpected text after %.*s", (int)len, at);
    p->text = *s = expr;
    return 0;
}

CronExpr *cron_parse(const char *text, char *err, size_t errlen)
{
    char scratch[8];
    Parser p = {text, -1, 5, err && errlen ? err : scratch, err && errlen ? errlen : sizeof scratch};
    p.err[0] = '\0';
    CronExpr *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    if (!text) {
        snprintf(p.err, p.errlen, "no expression");
        goto err;
    }
    const char *s = text + strspn(text, " \t\r\n\v\f");
    int r = *s == '@' ? parse_at(&p, &s, e) : 0;
    if (r < 0)
        goto err;
    if (r > 0)
        return e;
    if (parse_fields(&p, s, e) < 0)
        goto err;
    if (!cron_can_fire(e)) {
        snprintf(p.err, p.errlen,
                 "day-of-month and month fields: no chosen day exists in the "
                 "chosen months, so the expression would never fire");
        goto err;
    }
    return e;
err:
    cron_free(e);
    return NULL;
}

void cron_free(CronExpr *e)
{
    free(e);
}
