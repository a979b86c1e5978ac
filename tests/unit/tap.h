/* SPDX-License-Identifier: GPL-2.0-only */
/* TAP output for the unit tests: one "ok" or "not ok" line per check, with
 * a "# " diagnostic under a failure.  tests/run counts the lines. */
#ifndef XM_TEST_TAP_H
#define XM_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

/* An empty diagnostic is fine: the name says it all. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

static int failures;

static void __attribute__((format(printf, 3, 4), unused))
check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%sok - %s\n", cond ? "" : "not ", name);
	if (!cond) {
		failures++;
		printf("# ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

#endif
