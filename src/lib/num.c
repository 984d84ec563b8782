/* num: decimal integers from text, with the end and range checks atoi and sscanf lack, and to text. */
#include "num.h"

#include <errno.h>
#include <stdlib.h>

int num_prefix(const char *s, long long min, long long max, long long *out, const char **end)
{
    if (s == NULL)
        return -1;
    char *stop;
    errno = 0;
    long long v = strtoll(s, &stop, 10);
    if (stop == s || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    if (end != NULL)
        *end = stop;
    return 0;
}

int num_parse(const char *s, long long min, long long max, long long *out)
{
    const char *end;
    long long v;
    if (num_prefix(s, min, max, &v, &end) != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

char *num_put(char *p, unsigned long long n)
{
    char rev[20];
    int k = 0;
    do
        rev[k++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    while (k > 0)
        *p++ = rev[--k];
    return p;
}
