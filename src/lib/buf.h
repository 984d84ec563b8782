/* buf: a growable byte buffer, always NUL-terminated once it holds anything,
 * for bodies collected in pieces (requests, proxied replies, rendered text). */
#ifndef DTS_BUF_H
#define DTS_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A zeroed Buf is empty (data NULL). data[len] is '\0' whenever data is not
 * NULL; the bytes before it may hold NULs. */
typedef struct Buf {
    char *data;
    size_t len;
    size_t cap; /* private */
} Buf;

/* Appends N bytes of P (out of memory aborts, as everywhere). */
void buf_add(Buf *b, const void *p, size_t n);

/* Appends the string S. */
void buf_adds(Buf *b, const char *s);

/* Appends printf-formatted text. */
void buf_addf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(Buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Hands the bytes over: returns them (a NUL-terminated heap string, "" if
 * none were added; the caller frees it), stores their length in *len if LEN
 * is not NULL, and leaves B empty. */
char *buf_take(Buf *b, size_t *len);

/* Empties B, keeping its memory for reuse. */
void buf_reset(Buf *b);

/* Frees B's memory and leaves it empty; a zeroed Buf is a no-op. */
void buf_free(Buf *b);

#endif
