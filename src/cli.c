/* cli: what every `dts task|dead|events` command shares: flags, the HTTP call
 * to the API (libcurl, one request at a time), errors and exit codes. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mem.h"
#include "task.h"

#define CLI_API_DEFAULT "http://127.0.0.1:8321"
#define CLI_REPLY_MAX (64u << 20) /* a reply larger than this is refused */

static const CliOpt common[] = {{"api", 1}, {"output", 1}, {"o", 1}, {"help", 0}, {"h", 0}};
#define NCOMMON (int)(sizeof common / sizeof common[0])

static int opt_index(const CliArgs *a, const char *name)
{
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return i;
    return -1;
}

const char *cli_opt(const CliArgs *a, const char *name)
{
    int i = opt_index(a, name);
    return i >= 0 && a->count[i] > 0 ? a->values[i][a->count[i] - 1] : NULL;
}

int cli_opt_count(const CliArgs *a, const char *name)
{
    int i = opt_index(a, name);
    return i >= 0 ? a->count[i] : 0;
}

const char *const *cli_opt_values(const CliArgs *a, const char *name)
{
    int i = opt_index(a, name);
    return i >= 0 ? a->values[i] : NULL;
}

int cli_fail(const Cli *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* Takes one word of argv at *i: an option (with its value) or a positional. */
static int parse_word(Cli *c, CliArgs *a, int argc, char **argv, int *i)
{
    const char *w = argv[*i];
    if (w[0] != '-' || w[1] == '\0') {
        if (a->npos == CLI_POS_MAX)
            return cli_fail(c, CLI_EUSAGE, "unexpected argument \"%s\" (see --help)", w);
        a->pos[a->npos++] = w;
        return CLI_OK;
    }
    const char *name = w + (w[1] == '-' ? 2 : 1), *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    for (int k = 0; k < a->nopts; k++) {
        if (strlen(a->opts[k].name) != n || strncmp(a->opts[k].name, name, n) != 0)
            continue;
        const char *v = eq ? eq + 1 : "";
        if (a->opts[k].has_value && !eq) {
            if (*i + 1 >= argc)
                return cli_fail(c, CLI_EUSAGE, "%s needs a value", w);
            v = argv[++*i];
        } else if (!a->opts[k].has_value && eq) {
            return cli_fail(c, CLI_EUSAGE, "--%.*s takes no value", (int)n, name);
        }
        if (a->count[k] == CLI_VALUES_MAX)
            return cli_fail(c, CLI_EUSAGE, "--%s given too often", a->opts[k].name);
        a->values[k][a->count[k]++] = v;
        return CLI_OK;
    }
    return cli_fail(c, CLI_EUSAGE, "unknown option %s (see --help)", w);
}

/* Fills C from the parsed common options and the environment. */
static int settle(Cli *c, CliArgs *a)
{
    const char *api = cli_opt(a, "api"), *out = cli_opt(a, "o");
    if (cli_opt(a, "output"))
        out = cli_opt(a, "output");
    if (api == NULL)
        api = getenv("DTS_API");
    c->api = api && *api ? api : CLI_API_DEFAULT;
    if (strncmp(c->api, "http://", 7) != 0 && strncmp(c->api, "https://", 8) != 0)
        return cli_fail(c, CLI_EUSAGE, "--api must be an http:// or https:// URL, not \"%s\"", c->api);
    c->token = getenv("DTS_TOKEN");
    if (c->token != NULL && *c->token == '\0')
        c->token = NULL;
    if (out != NULL && strcmp(out, "json") != 0 && strcmp(out, "table") != 0)
        return cli_fail(c, CLI_EUSAGE, "-o must be json or table");
    c->json = out != NULL && strcmp(out, "json") == 0;
    return CLI_OK;
}

int cli_parse(Cli *c, const CliOpt *opts, int nopts, int argc, char **argv, CliArgs *a)
{
    static CliOpt all[CLI_OPTS_MAX];
    if (nopts + NCOMMON > CLI_OPTS_MAX)
        abort(); /* a programming error: the table is static */
    memcpy(all, common, sizeof common);
    if (nopts > 0)
        memcpy(all + NCOMMON, opts, (size_t)nopts * sizeof *opts);
    memset(a, 0, sizeof *a);
    a->opts = all;
    a->nopts = nopts + NCOMMON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            a->rest = argv + i + 1;
            a->nrest = argc - i - 1;
            break;
        }
        int rv = parse_word(c, a, argc, argv, &i);
        if (rv != CLI_OK)
            return rv;
    }
    if (cli_opt_count(a, "help") || cli_opt_count(a, "h"))
        return -1;
    return settle(c, a);
}

typedef struct Buf {
    char *data;
    size_t len, cap;
} Buf;

static size_t write_cb(char *ptr, size_t size, size_t n, void *ud)
{
    Buf *b = ud;
    size_t add = size * n;
    if (add == 0)
        return 0;
    if (b->len + add + 1 > CLI_REPLY_MAX)
        return 0; /* curl fails the transfer */
    if (b->len + add + 1 > b->cap) {
        b->cap = (b->len + add + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static int exit_code_of(long status)
{
    if (status >= 200 && status < 300)
        return CLI_OK;
    if (status == 404)
        return CLI_ENOTFOUND;
    if (status == 401 || status == 403)
        return CLI_EAUTH;
    if (status >= 400 && status < 500)
        return CLI_EAPI;
    return CLI_ESERVER;
}

/* The request headers: JSON both ways, and the token when there is one. */
static struct curl_slist *headers_for(const Cli *c)
{
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    if (c->if_match != NULL) {
        char im[64];
        snprintf(im, sizeof im, "If-Match: \"%s\"", c->if_match);
        h = curl_slist_append(h, im);
    }
    if (c->token != NULL) {
        char auth[1024];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, auth);
    }
    return h;
}

int cli_request(const Cli *c, const char *method, const char *path, json_t *body, json_t **reply,
                long *status)
{
    char url[4096], *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    Buf b = {0};
    snprintf(url, sizeof url, "%s%s", c->api, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = headers_for(c);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (text != NULL)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    CURLcode cc = curl_easy_perform(h);
    *status = 0;
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    else
        fprintf(stderr, "%s: cannot reach the API at %s: %s\n", c->cmd, c->api, curl_easy_strerror(cc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(text);
    *reply = b.len ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    free(b.data);
    return cc == CURLE_OK ? exit_code_of(*status) : CLI_ESERVER;
}

int cli_call(const Cli *c, const char *method, const char *path, json_t *body, json_t **reply)
{
    long status;
    int rv = cli_request(c, method, path, body, reply, &status);
    return cli_report(c, rv, status, reply);
}

int cli_report(const Cli *c, int rv, long status, json_t **reply)
{
    if (rv == CLI_OK || status == 0)
        return rv;
    const char *field = json_string_value(json_object_get(*reply, "field"));
    const char *detail = json_string_value(json_object_get(*reply, "detail"));
    if (detail == NULL)
        detail = json_string_value(json_object_get(*reply, "title"));
    if (field != NULL && *field)
        cli_fail(c, rv, "%s: %s", field, detail ? detail : "refused");
    else
        cli_fail(c, rv, "%s (HTTP %ld)", detail ? detail : "the API refused the request", status);
    json_decref(*reply);
    *reply = NULL;
    return rv;
}

void cli_urlencode(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
}

void cli_print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (text != NULL)
        puts(text);
    free(text);
}

/* Appends the ids of the tasks named exactly NAME on the page PATH to IDS;
 * returns the next cursor (the caller frees it) or NULL. */
static char *named_on_page(const Cli *c, const char *path, const char *name, json_t *ids, int *rv)
{
    json_t *page, *t, *want;
    size_t i;
    if ((*rv = cli_call(c, "GET", path, NULL, &page)) != CLI_OK)
        return NULL;
    want = json_string(name);
    json_array_foreach(json_object_get(page, "items"), i,
                       t) if (json_equal(json_object_get(t, "name"), want))
        json_array_append(ids, json_object_get(t, "id"));
    const char *next = json_string_value(json_object_get(page, "next_cursor"));
    char *out = next ? strdup(next) : NULL;
    json_decref(page);
    json_decref(want);
    return out;
}

int cli_task_resolve(const Cli *c, const char *ref, char *id)
{
    if (task_id_valid(ref) && strlen(ref) == 24 && strspn(ref, "0123456789abcdef") == 24) {
        snprintf(id, TASK_ID_MAX + 1, "%s", ref);
        return CLI_OK;
    }
    char enc[1024], path[1200];
    cli_urlencode(ref, enc, sizeof enc);
    json_t *ids = json_array();
    int rv = CLI_OK;
    char *cursor = NULL;
    do {
        snprintf(path, sizeof path, "/api/v1/tasks?limit=500&name_prefix=%s%s%s", enc,
                 cursor ? "&cursor=" : "", cursor ? cursor : "");
        free(cursor);
        cursor = named_on_page(c, path, ref, ids, &rv);
    } while (cursor != NULL && rv == CLI_OK);
    free(cursor);
    size_t n = json_array_size(ids);
    if (rv == CLI_OK && n == 0)
        rv = cli_fail(c, CLI_ENOTFOUND, "no task named \"%s\"", ref);
    if (rv == CLI_OK && n > 1) {
        fprintf(stderr, "%s: %zu tasks are named \"%s\"; name one by id:", c->cmd, n, ref);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", json_string_value(json_array_get(ids, i)));
        fputc('\n', stderr);
        rv = CLI_EUSAGE;
    }
    if (rv == CLI_OK)
        snprintf(id, TASK_ID_MAX + 1, "%s", json_string_value(json_array_get(ids, 0)));
    json_decref(ids);
    return rv;
}

/* ---- Server-Sent Events ---- */

typedef struct SseCtx {
    Buf buf;
    void (*block)(void *ud, char *text);
    void *ud;
} SseCtx;

/* Hands every complete block ("...\n\n") to the callback as it arrives. */
static size_t sse_write_cb(char *ptr, size_t size, size_t n, void *ud)
{
    SseCtx *x = ud;
    size_t add = write_cb(ptr, size, n, &x->buf);
    char *end;
    while (add > 0 && (end = strstr(x->buf.data, "\n\n")) != NULL) {
        *end = '\0';
        x->block(x->ud, x->buf.data);
        size_t used = (size_t)(end + 2 - x->buf.data);
        memmove(x->buf.data, end + 2, x->buf.len - used + 1);
        x->buf.len -= used;
    }
    return add;
}

int cli_stream(const Cli *c, const char *path, const char *last_id, void (*block)(void *ud, char *text),
               void *ud, long *status)
{
    char url[4096], hdr[1200];
    SseCtx x = {.block = block, .ud = ud};
    snprintf(url, sizeof url, "%s%s", c->api, path);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: text/event-stream");
    if (last_id != NULL && *last_id) {
        snprintf(hdr, sizeof hdr, "Last-Event-ID: %s", last_id);
        h = curl_slist_append(h, hdr);
    }
    if (c->token != NULL) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, hdr);
    }
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sse_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L); /* heartbeats come every 15 s */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 45L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(e);
    *status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    free(x.buf.data);
    if (*status != 0 && (*status < 200 || *status >= 300))
        return exit_code_of(*status);
    return cc == CURLE_OK ? CLI_OK : CLI_ESERVER;
}
