/* probe: `dts probe URL`, a health check that needs no shell and no curl in
 * the image (Docker's HEALTHCHECK runs it in exec form). */
#include "probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t discard_cb(char *data, size_t size, size_t n, void *ud)
{
    return size * n;
}

int probe_main(int argc, char **argv)
{
    if (argc != 2 || strncmp(argv[1], "http://", 7) != 0) {
        fprintf(stderr, "usage: dts probe http://HOST:PORT/healthz\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, argv[1]);
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
        fprintf(stderr, "dts probe: %s: %s\n", argv[1],
                rc != CURLE_OK ? curl_easy_strerror(rc) : status >= 500 ? "server error" : "not healthy");
        return 1;
    }
    return 0;
}
