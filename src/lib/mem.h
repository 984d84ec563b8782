/* mem: allocation that aborts on out-of-memory, decided once for the process. */
#ifndef DTS_MEM_H
#define DTS_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup, but never return NULL: out of memory
 * aborts the process, as Redis's zmalloc does. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Routes jansson's allocations through the aborting allocator. */
void mem_init(void);

#endif
