/* web: the web role: serves the UI's embedded assets and proxies /api to the
 * api replicas, so the browser talks to one origin. */
#ifndef DTS_WEB_H
#define DTS_WEB_H

#include <stddef.h>

/* One file of the UI, embedded at build time by web/CMakeLists.txt. */
typedef struct WebAsset {
    const char *path; /* URL path: "/index.html", "/js/app.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} WebAsset;

/* The embedded assets, ending with a NULL path; generated into the dts
 * executable. Weak, so that code linked without it (unit tests) still links:
 * it is NULL there, and the role then says the UI is missing. */
extern const WebAsset web_assets[] __attribute__((weak));

/* The asset served at PATH ("/" is "/index.html"), or NULL. */
const WebAsset *web_asset_find(const char *path);

/* `dts web`: returns the process exit code. */
int web_main(int argc, char **argv);

#endif
