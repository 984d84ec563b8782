/* role_help: the manual part of `dts ROLE --help`: what the role does, its
 * environment, examples and exit status, after the generated option list. */
#ifndef DTS_ROLE_HELP_H
#define DTS_ROLE_HELP_H

#include <stdio.h>

/* Prints the manual text of ROLE on OUT (nothing for a role without one). */
void role_help_print(FILE *out, const char *role);

#endif
