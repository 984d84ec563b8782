/* probe: `dts probe [URL]`, a health check that needs no shell and no curl in
 * the image (Docker's HEALTHCHECK runs it in exec form). */
#include "probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t discard_cb(char *data, size_t size, size_t n, void *ud)
{
    return size * n;
}

int probe_listen_url(const char *listen, char *url, size_t len)
{
    if (listen == NULL || listen[0] == '\0')
        return -1;
    const char *port = strrchr(listen, ':');
    if (port == NULL || port[1] == '\0')
        return -1;
    size_t hostlen = (size_t)(port - listen);
    const char *host = listen;
    if ((hostlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0) || hostlen == 0) {
        host = "127.0.0.1";
        hostlen = 9;
    } else if (hostlen == 4 && strncmp(listen, "[::]", 4) == 0) {
        host = "[::1]";
        hostlen = 5;
    }
    int n = snprintf(url, len, "http://%.*s%s/healthz", (int)hostlen, host, port);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int probe_main(int argc, char **argv)
{
    char own[300];
    const char *url = argc == 2 ? argv[1] : own;
    if (argc == 1) {
        if (probe_listen_url(getenv("DTS_LISTEN"), own, sizeof own) != 0) {
            fprintf(stderr, "dts probe: DTS_LISTEN (HOST:PORT) is not set: nothing to probe\n");
            return 2;
        }
    } else if (argc != 2 || strncmp(argv[1], "http://", 7) != 0) {
        fprintf(stderr, "usage: dts probe [http://HOST:PORT/healthz]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc != CURLE_OK || status < 200 || status > 299) {
        fprintf(stderr, "dts probe: %s: %s\n", url,
                rc != CURLE_OK  ? curl_easy_strerror(rc)
                : status >= 500 ? "server error"
                                : "not healthy");
        return 1;
    }
    return 0;
}
