// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

static enum xm_log_level log_level = XM_LOG_WARN;
static int libbpf_quiet;
static const char *log_prog = "xdp-mcast";

void xm_log_set_level(enum xm_log_level level)
{
	log_level = level;
}

void xm_log_set_prog(const char *name)
{
	log_prog = name;
}

static void vlog(enum xm_log_level level, const char *prefix, const char *fmt,
		 va_list ap)
{
	if (level > log_level)
		return;
	fprintf(stderr, "%s: %s", log_prog, prefix);
	vfprintf(stderr, fmt, ap);
}

void xm_log(enum xm_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[XM_LOG_ERR] = "", [XM_LOG_WARN] = "warning: ",
		[XM_LOG_INFO] = "", [XM_LOG_DEBUG] = "debug: ",
	};
	va_list ap;

	va_start(ap, fmt);
	vlog(level, prefix[level], fmt, ap);
	va_end(ap);
}

/* libbpf warnings are details of a failure we report ourselves.  Its
 * messages carry their own "libbpf: " prefix. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum xm_log_level ours = level == LIBBPF_WARN ? XM_LOG_INFO : XM_LOG_DEBUG;

	if (libbpf_quiet)
		return 0;
	vlog(ours, "", fmt, ap);
	return 0;
}

void xm_log_quiet_libbpf(bool quiet)
{
	libbpf_quiet = quiet;
}

void xm_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
