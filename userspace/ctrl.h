/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IGMP and MLD messages as the snooping ring buffer delivers them: the bytes
 * from the IPv4 or IPv6 header on, as far as they were captured.
 *
 * xm_ctrl_parse() checks everything that came from the wire (header
 * lengths, the IPv4 header checksum, the IGMP checksum, the ICMPv6 checksum
 * over its pseudo-header, options and extension headers, lengths of every
 * record) and either fills a struct xm_ctrl_msg or names, with one reason,
 * why the message must be ignored.  It never allocates and never keeps a
 * pointer after it returns, but the message it fills points into the input:
 * source lists stay in the captured bytes (network order, possibly
 * unaligned), read them with xm_ctrl_source().  Keep the input alive as
 * long as the message.
 *
 * What the parser only reports (router alert, TTL, the unspecified source of
 * an MLD report) the router decides on: see xm_mship_input().
 */
#ifndef XM_CTRL_H
#define XM_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xdp_mcast_kern_user.h"

/*
 * Bounds on what one message may ask of the router.  The ring buffer keeps
 * XM_CTRL_CAPTURE bytes of each message, room for about 180 IGMPv3 records,
 * 72 MLDv2 records or 360 IPv4 sources; a longer report arrives cut and is
 * refused as truncated.  These bounds hold whatever the input (a larger
 * capture, a test, a fuzzer): a message beyond them is refused whole
 * (too_many_records, too_many_sources) rather than half applied, since half
 * a report leaves a group in a state no host asked for.
 */
#define XM_CTRL_MAX_RECORDS	1024	/* group records in one report */
#define XM_CTRL_MAX_SOURCES	4096	/* sources in one query, or in all used records */

/* Wire types. */
#define XM_IGMP_QUERY		0x11
#define XM_IGMP_V1_REPORT	0x12
#define XM_IGMP_V2_REPORT	0x16
#define XM_IGMP_V2_LEAVE	0x17
#define XM_IGMP_V3_REPORT	0x22
#define XM_MLD_QUERY		130
#define XM_MLD_V1_REPORT	131
#define XM_MLD_V1_DONE		132
#define XM_MLD_V2_REPORT	143

/* Message lengths that decide the version of a query (RFC 3376 7.1,
 * RFC 3810 8.1); lengths in between are ignored. */
#define XM_IGMP_V2_QUERY_LEN	8
#define XM_IGMP_V3_QUERY_LEN	12
#define XM_MLD_V1_QUERY_LEN	24
#define XM_MLD_V2_QUERY_LEN	28

/*
 * Why a message is ignored.  X(enum suffix, name shown to operators).  The
 * parser gives the first block; xm_mship_input() adds the router's own
 * checks.  OK is not a reason to count.
 */
#define XM_CTRL_REASONS(X)						\
	X(OK,			"ok")					\
	/* the capture ends before the IP header or the datagram does */ \
	X(TRUNCATED,		"truncated")				\
	/* IP version, header or total length, options, ext. headers */	\
	X(BAD_IP_HEADER,	"bad_ip_header")			\
	X(BAD_IP_CHECKSUM,	"bad_ip_checksum")			\
	/* a fragment: control messages are never fragmented */	\
	X(FRAGMENT,		"fragment")				\
	/* not IGMP, or the upper layer is not ICMPv6 */		\
	X(BAD_PROTOCOL,		"bad_protocol")				\
	/* IGMP checksum, or ICMPv6 checksum with its pseudo-header */	\
	X(BAD_CHECKSUM,		"bad_checksum")				\
	/* an IGMP type or ICMPv6 type that is not a membership message */ \
	X(BAD_TYPE,		"bad_type")				\
	/* too short for its type, or records and sources overrun it */	\
	X(BAD_LENGTH,		"bad_length")				\
	/* RFC 3376 7.1 and RFC 3810 8.1: queries of no known length */	\
	X(QUERY_9_11_BYTES,	"query_9_11_bytes")			\
	X(QUERY_25_27_BYTES,	"query_25_27_bytes")			\
	/* a general query that lists sources */			\
	X(BAD_QUERY,		"bad_query")				\
	/* IPv4 multicast, broadcast or loopback; MLD not link-local */	\
	X(BAD_SOURCE,		"bad_source")				\
	X(NOT_MULTICAST_GROUP,	"not_multicast_group")			\
	/* 224.0.0.0/24, ff02::1: never reported (RFC 4541 2.1.2, RFC 3810 6) */ \
	X(LINK_LOCAL_GROUP,	"link_local_group")			\
	/* ff00::/15 and scopes 0 and 1: never on a link (RFC 4541 3) */ \
	X(RESERVED_GROUP,	"reserved_group")			\
	X(TOO_MANY_RECORDS,	"too_many_records")			\
	X(TOO_MANY_SOURCES,	"too_many_sources")			\
	/* --- the router's checks, xm_mship_input() --- */		\
	/* no link (ifindex, vlan) configured */			\
	X(UNKNOWN_IFACE,	"unknown_iface")			\
	/* IGMP or MLD is off on this link */				\
	X(DISABLED,		"disabled")				\
	X(NO_ROUTER_ALERT,	"no_router_alert")			\
	/* TTL or hop limit is not 1, where the link requires it */	\
	X(BAD_TTL,		"bad_ttl")				\
	/* an MLD report from :: (RFC 3810 5.2.13: routers discard it) */ \
	X(UNSPECIFIED_SOURCE,	"unspecified_source")			\
	/* our own query, looped back */				\
	X(OWN_QUERY,		"own_query")

#define XM_CTRL_REASON_ENUM(id, name) XM_CTRL_##id,
enum xm_ctrl_reason {
	XM_CTRL_REASONS(XM_CTRL_REASON_ENUM)
	XM_CTRL_REASON_COUNT
};
#undef XM_CTRL_REASON_ENUM

/* What a message asks, once its version is known. */
enum xm_ctrl_kind {
	XM_CTRL_QUERY,		/* any version; group 0 = general */
	XM_CTRL_JOIN,		/* IGMPv1/v2 report, MLDv1 report: one group */
	XM_CTRL_LEAVE,		/* IGMPv2 leave, MLDv1 done: one group */
	XM_CTRL_REPORT,		/* IGMPv3 or MLDv2 report: records */
};

/* Record types of IGMPv3 (RFC 3376 4.2.12) and MLDv2 (RFC 3810 5.2.12). */
enum xm_rec_type {
	XM_REC_IS_IN = 1,	/* MODE_IS_INCLUDE */
	XM_REC_IS_EX = 2,	/* MODE_IS_EXCLUDE */
	XM_REC_TO_IN = 3,	/* CHANGE_TO_INCLUDE_MODE */
	XM_REC_TO_EX = 4,	/* CHANGE_TO_EXCLUDE_MODE */
	XM_REC_ALLOW = 5,	/* ALLOW_NEW_SOURCES */
	XM_REC_BLOCK = 6,	/* BLOCK_OLD_SOURCES */
};
#define XM_REC_TYPES		7	/* room for 1..6 */

/* Records the parser passes over without refusing the message; each is
 * counted in xm_ctrl_msg.skipped[]. */
#define XM_CTRL_SKIPS(X)						\
	/* RFC 3376 4.2.12, RFC 3810 5.2.12: ignored, the rest is used */ \
	X(UNKNOWN_TYPE,		"unknown_record_type")			\
	X(LINK_LOCAL,		"link_local_record")			\
	X(RESERVED,		"reserved_record")			\
	X(NOT_MULTICAST,	"not_multicast_record")

#define XM_CTRL_SKIP_ENUM(id, name) XM_CTRL_SKIP_##id,
enum xm_ctrl_skip {
	XM_CTRL_SKIPS(XM_CTRL_SKIP_ENUM)
	XM_CTRL_SKIP_COUNT
};
#undef XM_CTRL_SKIP_ENUM

/* One usable group record.  src points into the parsed input. */
struct xm_ctrl_record {
	uint8_t type;		/* enum xm_rec_type */
	uint16_t nsrc;
	__be32 group[4];	/* net: IPv4 in group[0], the rest 0 */
	const uint8_t *src;	/* nsrc addresses of 4 or 16 bytes, net order */
};

struct xm_ctrl_msg {
	/* From the ring buffer's metadata. */
	uint32_t ifindex;
	uint16_t vlan;

	uint8_t family;		/* XM_AF_INET, XM_AF_INET6 */
	uint8_t kind;		/* enum xm_ctrl_kind */
	uint8_t version;	/* IGMP 1..3, MLD 1..2 */
	uint8_t type;		/* the wire type */
	uint8_t ttl;		/* TTL or hop limit, as received (1 expected) */
	bool router_alert;	/* IPv4 option 148 / IPv6 hop-by-hop option 5, value 0 */
	__be32 src[4];		/* net: the IP source */
	__be32 dst[4];		/* net: the IP destination */

	/* Queries, joins and leaves. */
	__be32 group[4];	/* net: 0 in a general query */

	/* Queries: decoded from the wire, whatever the version. */
	uint32_t max_resp_ms;	/* IGMPv1: 10 s (RFC 2236 4) */
	uint32_t qqi_s;		/* v3/MLDv2: decoded QQIC, 0 = not given */
	uint8_t qrv;		/* v3/MLDv2: 0..7, 0 = not given */
	bool s_flag;		/* v3/MLDv2: suppress router-side processing */
	uint16_t nsrc;		/* group-and-source-specific queries */
	const uint8_t *src_list;	/* nsrc addresses in the input */

	/* Reports. */
	uint16_t nrec;		/* usable records, in message order */
	uint16_t skipped[XM_CTRL_SKIP_COUNT];
	struct xm_ctrl_record rec[XM_CTRL_MAX_RECORDS];
};

/*
 * Parse len bytes from the IP header on into msg (which is large: keep one
 * around instead of putting it on a small stack).  Returns XM_CTRL_OK, or
 * the reason to ignore the message; msg is then partly filled (family,
 * addresses and type as far as they were read) for logging only.
 */
enum xm_ctrl_reason xm_ctrl_parse(const void *pkt, size_t len, uint32_t ifindex,
				  uint16_t vlan, struct xm_ctrl_msg *msg);

/* Source i of a record or query source list, as a flow-key address. */
void xm_ctrl_source(const struct xm_ctrl_msg *msg, const uint8_t *list,
		    unsigned int i, __be32 out[4]);

const char *xm_ctrl_reason_name(enum xm_ctrl_reason r);
const char *xm_ctrl_skip_name(enum xm_ctrl_skip s);
/* "IS_IN", "TO_EX", ...; "?" for anything else. */
const char *xm_rec_type_name(unsigned int type);

/*
 * The floating-point codes of RFC 3376 4.1.1/4.1.7 and RFC 3810 5.1.3/5.1.9:
 * below the threshold the code is the value; from it on, the high bit is
 * set, then a 3-bit exponent and a 4- (or 12-) bit mantissa:
 * value = (mant | 0x10) << (exp + 3), or (mant | 0x1000) << (exp + 3).
 * Decoders return the value in the code's unit (1/10 s for IGMP Max Resp,
 * ms for MLD Max Resp, s for QQIC); encoders round down to the nearest
 * representable value and saturate at the largest.
 */
uint32_t xm_code8_decode(uint8_t code);
uint8_t xm_code8_encode(uint32_t value);
uint32_t xm_code16_decode(uint16_t code);
uint16_t xm_code16_encode(uint32_t value);

#define XM_CODE8_MAX		31744u		/* 0xff */
#define XM_CODE16_MAX		8387584u	/* 0xffff */

/* Address classes used by the parser and the router. */
bool xm_addr_is_multicast(uint8_t family, const __be32 a[4]);
bool xm_addr_is_zero(const __be32 a[4]);
/* memcmp order of the network bytes: the RFC's "lowest address" */
int xm_addr_cmp(const __be32 a[4], const __be32 b[4]);

#endif
