/* civil: proleptic Gregorian calendar arithmetic on day numbers (no time zones). */
#ifndef DTS_CIVIL_H
#define DTS_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of the date Y-M-D (M 1..12, D 1..31). */
int64_t civil_days_from_date(int64_t y, int m, int d);

/* The date of day number DAYS (days since 1970-01-01). */
void civil_date_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Day of the week of day number DAYS: 0 = Sunday .. 6 = Saturday. */
int civil_weekday(int64_t days);

/* 1 if Y is a leap year, else 0. */
int civil_is_leap(int64_t y);

/* Number of days in month M (1..12) of year Y. */
int civil_month_days(int64_t y, int m);

/* Floor division and its non-negative remainder, for negative instants. */
int64_t civil_floor_div(int64_t a, int64_t b);
int64_t civil_floor_mod(int64_t a, int64_t b);

#endif
