/* httpd_private: what httpd.c and httpd_stream.c share and nobody else sees. */
#ifndef DTS_HTTPD_PRIVATE_H
#define DTS_HTTPD_PRIVATE_H

#include <microhttpd.h>

#include "httpd.h"

/* The MHD response that pulls stream S's body (its content reader parks and
 * resumes the connection). Consumes S: its done callback runs when MHD frees
 * the response, or now if the response cannot be made (NULL returned). */
struct MHD_Response *httpd_stream_response(HttpStream *s);

#endif
