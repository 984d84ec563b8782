/* civil: proleptic Gregorian calendar arithmetic on day numbers (no time zones). */
#include "civil.h"

/* The algorithms shift the year to start in March, so that the leap day is the
 * last day of the shifted year, and count in 400-year eras of 146097 days. */
int64_t civil_days_from_date(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = civil_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_date_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = civil_floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int civil_weekday(int64_t days)
{
    return (int)civil_floor_mod(days + 4, 7);
}

int civil_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int civil_month_days(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 ? 28 + civil_is_leap(y) : len[m - 1];
}

int64_t civil_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t civil_floor_mod(int64_t a, int64_t b)
{
    return a - civil_floor_div(a, b) * b;
}
