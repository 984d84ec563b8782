/* num: decimal integers from text, with the end and range checks atoi and sscanf lack. */
#ifndef DTS_NUM_H
#define DTS_NUM_H

/* Parses a decimal integer (strtoll's syntax: leading blanks and a sign
 * allowed) at the start of S into *OUT if it lies in [MIN, MAX], and sets
 * *END, when END is not NULL, to the first character after it. Returns 0, or
 * -1 (leaving *OUT and *END alone) if S is NULL, holds no digits there, or the
 * value is out of range. Pure: no allocation, no I/O. */
int num_prefix(const char *s, long long min, long long max, long long *out, const char **end);

/* As num_prefix, but the number must be all of S. Returns 0 or -1. */
int num_parse(const char *s, long long min, long long max, long long *out);

/* Writes N in decimal at P, without a terminator (at most 20 characters),
 * and returns the end: what "%llu" writes, without printf's cost on hot paths
 * (command and key building). */
char *num_put(char *p, unsigned long long n);

#endif
