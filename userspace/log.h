/* SPDX-License-Identifier: GPL-2.0-only */
/* One logger for the tools: errors always, more with -v; libbpf's own
 * messages come through it one level lower. */
#ifndef XM_LOG_H
#define XM_LOG_H

#include <stdbool.h>

enum xm_log_level {
	XM_LOG_ERR,
	XM_LOG_WARN,
	XM_LOG_INFO,
	XM_LOG_DEBUG,
};

void xm_log_set_level(enum xm_log_level level);
void xm_log_set_prog(const char *name);
void xm_log_route_libbpf(void);
/* Silence libbpf around a call whose failure is expected and handled. */
void xm_log_quiet_libbpf(bool quiet);
void xm_log(enum xm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)	xm_log(XM_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	xm_log(XM_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	xm_log(XM_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	xm_log(XM_LOG_DEBUG, __VA_ARGS__)

#endif
