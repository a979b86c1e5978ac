/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XM_UTIL_H
#define XM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>

#include "xdp_mcast_kern_user.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Longest text xm_format_addr() writes, with the NUL. */
#define XM_ADDR_STRLEN 46

/* "239.1.1.1" or "ff0e::1" from a flow-key address; family XM_AF_*. */
const char *xm_format_addr(uint8_t family, const __be32 addr[4], char *buf,
			   size_t len);
const char *xm_family_name(uint8_t family);

/* Nanoseconds of CLOCK_MONOTONIC (what the data path stamps) to seconds
 * since the Unix epoch, using the offset between the clocks right now. */
double xm_mono_to_epoch(uint64_t mono_ns);
uint64_t xm_now_mono_ns(void);

/* Whole decimal number in [min, max]; false on anything else. */
bool xm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Map a negative errno to a sysexits.h exit code. */
int xm_errno_to_exit(int err);

/* The Internet checksum (RFC 1071): xm_csum_add() sums bytes as 16-bit
 * big-endian words (an odd length padded with zero), over as many pieces
 * as needed; xm_csum_fold() folds and complements, giving the checksum in
 * host order, or 0 over data whose checksum field is right. */
uint64_t xm_csum_add(uint64_t sum, const void *data, size_t len);
uint16_t xm_csum_fold(uint64_t sum);

/* Order two 16-byte addresses as memcmp() would (-1, 0, 1), in two 64-bit
 * compares: the state machine and the snooping module merge sorted source
 * lists with it, and memcmp() through the PLT was a fifth of a report. */
static inline int xm_addr16_cmp(const void *a, const void *b)
{
	uint64_t x[2], y[2];

	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	if (x[0] != y[0]) {
		x[0] = __builtin_bswap64(x[0]);
		y[0] = __builtin_bswap64(y[0]);
		return x[0] < y[0] ? -1 : 1;
	}
	if (x[1] == y[1])
		return 0;
	x[1] = __builtin_bswap64(x[1]);
	y[1] = __builtin_bswap64(y[1]);
	return x[1] < y[1] ? -1 : 1;
}

#endif
