/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by bench_helpers.bpf.c and the bench that drives it. */
#ifndef BENCH_HELPERS_H
#define BENCH_HELPERS_H

#include <linux/types.h>

#define BENCH_TARGETS		16	/* programs each front can tail-call */
#define BENCH_WORD_OFF_MAX	127	/* the rotated word lies in the first 128 bytes */
#define BENCH_FLOW_BITS		16	/* flows differ in the low 16 bits of the word */

/*
 * The source word of flow i of a round robin, host order: the low 16 bits
 * of base replaced by i scattered over them.  Odd multipliers and
 * xor-shifts are invertible modulo 2^16, so flows 0 .. 2^16 - 1 are all
 * different, and they look like arbitrary hosts of one /16 rather than a
 * run of neighbours (which a multiplicative hash spreads unrealistically
 * well).
 */
static inline __u32 bench_flow_word(__u32 base, __u32 i)
{
	__u32 k = i & 0xffff;

	k = (k * 0x9e3779b1u) & 0xffff;
	k ^= k >> 8;
	k = (k * 0x85ebca6bu) & 0xffff;
	k ^= k >> 8;
	return (base & 0xffff0000u) | k;
}

#endif
