/* httpd_stream: streamed response bodies over libmicrohttpd's callback
 * responses. The content reader asks the owner for bytes; when there are
 * none it suspends the connection (MHD then polls it no more, so a parked
 * stream costs no thread and no busy loop) and http_stream_wake resumes it.
 * A wake that races the reader's "nothing yet" is remembered, so no data is
 * stranded: the reader then returns 0 once without parking and is called
 * again at once.
 *
 * Locks: MHD_resume_connection is never called with a lock held (ours or
 * the owner's, as http_stream_wake's contract says), since MHD may run the
 * done callback, which takes the owner's lock, under its own. The handle is
 * counted (the server's reference and the owner's), so an owner may wake a
 * stream whose connection has just closed: the wake then does nothing. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "httpd_private.h"
#include "mem.h"

struct HttpStream {
    struct MHD_Connection *conn;
    int fd; /* the client's socket, or -1 */
    http_stream_read_cb read;
    http_stream_done_cb done;
    void *ud;
    pthread_mutex_t lock; /* guards parked, woken and closed */
    int parked, woken, closed;
    atomic_int refs; /* the server's and the owner's (and holds) */
};

void http_stream_hold(HttpStream *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void http_stream_release(HttpStream *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1) {
        pthread_mutex_destroy(&s->lock);
        free(s);
    }
}

HttpStream *http_respond_stream(const HttpRequest *req, HttpResponse *res, int status,
                                const char *content_type, http_stream_read_cb read,
                                http_stream_done_cb done, void *ud)
{
    HttpStream *s = xcalloc(1, sizeof *s);
    s->conn = req->conn;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn,
                                                                 MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    s->read = read;
    s->done = done;
    s->ud = ud;
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->refs, 2);
    res->status = status;
    res->content_type = content_type;
    res->stream = s;
    return s;
}

void http_stream_wake(HttpStream *s)
{
    pthread_mutex_lock(&s->lock);
    int resume = s->parked && !s->closed;
    if (resume)
        s->parked = 0;
    else
        s->woken = 1;
    pthread_mutex_unlock(&s->lock);
    if (resume)
        MHD_resume_connection(s->conn);
}

int http_stream_gone(const HttpStream *s)
{
    struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
    if (atomic_load(&s->refs) < 2) /* the server's reference is gone, so is the socket */
        return 1;
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
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    pthread_mutex_unlock(&s->lock);
    s->done(s->ud);
    http_stream_release(s);
}

struct MHD_Response *httpd_stream_response(HttpStream *s)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader_cb, s,
                                                               free_cb);
    if (r == NULL)
        free_cb(s);
    return r;
}
