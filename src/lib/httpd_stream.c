/* httpd_stream: streamed response bodies over libmicrohttpd's callback
 * responses. The content reader asks the owner for bytes; when there are
 * none it suspends the connection (MHD then polls it no more, so a parked
 * stream costs no thread and no busy loop) and http_stream_wake resumes it.
 * A wake that races the reader's "nothing yet" is remembered, so no data is
 * stranded: the reader then returns 0 once without parking and is called
 * again at once. */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "httpd_private.h"
#include "mem.h"

struct HttpStream {
    struct MHD_Connection *conn;
    int fd; /* the client's socket, or -1 */
    http_stream_read_cb read;
    http_stream_done_cb done;
    void *ud;
    pthread_mutex_t lock; /* guards parked and woken */
    int parked, woken;
};

HttpStream *http_respond_stream(const HttpRequest *req, HttpResponse *res, int status,
                                const char *content_type, http_stream_read_cb read,
                                http_stream_done_cb done, void *ud)
{
    HttpStream *s = xcalloc(1, sizeof *s);
    s->conn = req->conn;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    s->read = read;
    s->done = done;
    s->ud = ud;
    pthread_mutex_init(&s->lock, NULL);
    res->status = status;
    res->content_type = content_type;
    res->stream = s;
    return s;
}

void http_stream_wake(HttpStream *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->parked) {
        s->parked = 0;
        MHD_resume_connection(s->conn);
    } else {
        s->woken = 1;
    }
    pthread_mutex_unlock(&s->lock);
}

int http_stream_gone(const HttpStream *s)
{
    struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
    return s->fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    HttpStream *s = cls;
    long n = s->read(s->ud, buf, max);
    if (n != 0)
        return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
    pthread_mutex_lock(&s->lock);
    if (s->woken) {
        s->woken = 0;
    } else {
        s->parked = 1;
        MHD_suspend_connection(s->conn);
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void free_cb(void *cls)
{
    HttpStream *s = cls;
    s->done(s->ud);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

struct MHD_Response *httpd_stream_response(HttpStream *s)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader_cb, s, free_cb);
    if (r == NULL)
        free_cb(s);
    return r;
}
