// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

const char *xm_format_addr(uint8_t family, const __be32 addr[4], char *buf,
			   size_t len)
{
	int af = family == XM_AF_INET6 ? AF_INET6 : AF_INET;

	if (family != XM_AF_INET && family != XM_AF_INET6) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (!inet_ntop(af, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *xm_family_name(uint8_t family)
{
	switch (family) {
	case XM_AF_INET:
		return "ipv4";
	case XM_AF_INET6:
		return "ipv6";
	default:
		return "unknown";
	}
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t xm_now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

double xm_mono_to_epoch(uint64_t mono_ns)
{
	uint64_t real = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);

	return ((double)real - ((double)mono - (double)mono_ns)) / 1e9;
}

bool xm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int xm_errno_to_exit(int err)
{
	switch (-err) {
	case 0:
		return EX_OK;
	case EPERM:
	case EACCES:
		return EX_NOPERM;
	case ENODEV:
	case ENOENT:
		return EX_NOINPUT;
	case EINVAL:
		return EX_USAGE;
	case EOPNOTSUPP:
	case EBUSY:
	case EEXIST:
		return EX_UNAVAILABLE;
	case ENOTDIR:
		return EX_CONFIG;
	case ESRCH:
		return EX_UNAVAILABLE;
	case ESTALE:
		return EX_CONFIG;
	case ETIMEDOUT:
		return EX_TEMPFAIL;
	case ENOMEM:
	case EIO:
		return EX_OSERR;
	default:
		return EX_SOFTWARE;
	}
}

uint64_t xm_csum_add(uint64_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t xm_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
