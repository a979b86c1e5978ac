// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcast-gen: send and receive numbered UDP multicast streams with ordinary
 * sockets, the way any multicast application does, so tests and the demo can
 * check what a router delivered.
 *
 *   mcast-gen send -g GROUP [-p PORT] [-I IFACE] [-t TTL] [-n COUNT]
 *                  [-s PAYLOAD_BYTES] [-r PPS] [--source ADDR] [--stream ID]
 *   mcast-gen recv -g GROUP [-p PORT] -I IFACE [--source S] [-n EXPECT]
 *                  [-T TIMEOUT_SEC] [--ready-file F] [--log F]
 *
 * Every datagram starts with struct mg_hdr.  The receiver counts unique
 * (stream, sequence) pairs, so it sees loss, duplicates and, from the count
 * in each header, where a stream ends.  Both commands print one JSON line on
 * standard output when they finish; errors go to standard error and the exit
 * code comes from sysexits.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL	49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL	29
#endif

#define MG_MAGIC		0x584d4731u	/* "XMG1" */
#define MG_PORT_DEFAULT		5001
#define MG_TTL_DEFAULT		16
#define MG_COUNT_DEFAULT	10
#define MG_PPS_DEFAULT		100
#define MG_MAX_PAYLOAD		65507	/* largest IPv4 UDP payload */
#define MG_MAX_STREAMS		64	/* distinct senders one receiver tracks */
#define MG_MAX_SEQ		(1u << 26)	/* sequence numbers tracked per stream */

/* At the start of every payload, all fields in network order. */
struct mg_hdr {
	uint32_t magic;		/* MG_MAGIC */
	uint32_t stream;	/* random per sender unless --stream */
	uint32_t seq;		/* 0 .. count - 1 */
	uint32_t count;		/* datagrams in the stream, 0 = until stopped */
};
_Static_assert(sizeof(struct mg_hdr) == 16, "mg_hdr layout");

/* A multicast group, a port, and optionally a source: one of each family. */
struct mg_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} a;
};

struct mg_opts {
	struct mg_addr group;
	struct mg_addr source;	/* family 0 when not given */
	const char *group_str;
	const char *source_str;
	const char *iface;
	const char *ready_file;
	const char *log_file;	/* recv: one line per datagram */
	unsigned int ifindex;
	unsigned int port;
	unsigned int ttl;
	unsigned long count;	/* send: datagrams; recv: unique ones expected */
	unsigned int size;
	unsigned long pps;	/* 0 = as fast as the socket takes them */
	unsigned long timeout;	/* recv, seconds, 0 = none */
	uint32_t stream;
	bool have_stream;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* No SA_RESTART: poll() and clock_nanosleep() return EINTR and the loops
 * look at the flag. */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mcast-gen send -g GROUP [-p PORT] [-I IFACE] [-t TTL] [-n COUNT]\n"
		"                      [-s PAYLOAD_BYTES] [-r PPS] [--source ADDR] [--stream ID]\n"
		"       mcast-gen recv -g GROUP [-p PORT] -I IFACE [--source ADDR] [-n EXPECT]\n"
		"                      [-T TIMEOUT_SEC] [--ready-file FILE] [--log FILE]\n"
		"\n"
		"send  sends COUNT (default %d) numbered UDP datagrams of PAYLOAD_BYTES\n"
		"      (default 64, at least %zu) to GROUP:PORT (default port %d) at PPS per\n"
		"      second (default %d, 0 = no limit) with TTL/hop limit TTL (default %d),\n"
		"      out of IFACE when given, from ADDR when given; COUNT 0 sends until\n"
		"      SIGINT/SIGTERM.\n"
		"recv  joins GROUP on IFACE (source-specific with --source), counts what\n"
		"      arrives and stops after EXPECT unique datagrams, after TIMEOUT_SEC or\n"
		"      on SIGINT/SIGTERM; writes FILE once joined.  --log FILE writes one\n"
		"      line per datagram as it arrives: STREAM SEQ TTL (TTL -1 when unknown).\n"
		"\n"
		"Both print one JSON line when done.  recv exits 1 when -n was given and\n"
		"fewer unique datagrams arrived.\n",
		MG_COUNT_DEFAULT, sizeof(struct mg_hdr), MG_PORT_DEFAULT,
		MG_PPS_DEFAULT, MG_TTL_DEFAULT);
}

static int parse_ulong(const char *opt, const char *s, unsigned long max,
		       unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "mcast-gen: invalid value '%s' for %s (0..%lu)\n",
			s, opt, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_addr(const char *s, struct mg_addr *a)
{
	if (inet_pton(AF_INET, s, &a->a.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->a.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static bool addr_is_mcast(const struct mg_addr *a)
{
	if (a->family == AF_INET)
		return IN_MULTICAST(ntohl(a->a.v4.s_addr));
	return IN6_IS_ADDR_MULTICAST(&a->a.v6);
}

enum { OPT_SOURCE = 256, OPT_READY, OPT_STREAM, OPT_LOG };

static int parse_opts(int argc, char **argv, bool recv, struct mg_opts *o)
{
	static const struct option longopts[] = {
		{ "group",	required_argument, NULL, 'g' },
		{ "port",	required_argument, NULL, 'p' },
		{ "interface",	required_argument, NULL, 'I' },
		{ "ttl",	required_argument, NULL, 't' },
		{ "count",	required_argument, NULL, 'n' },
		{ "size",	required_argument, NULL, 's' },
		{ "rate",	required_argument, NULL, 'r' },
		{ "timeout",	required_argument, NULL, 'T' },
		{ "source",	required_argument, NULL, OPT_SOURCE },
		{ "ready-file",	required_argument, NULL, OPT_READY },
		{ "stream",	required_argument, NULL, OPT_STREAM },
		{ "log",	required_argument, NULL, OPT_LOG },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *shortopts = recv ? "g:p:I:n:T:h" : "g:p:I:t:n:s:r:h";
	unsigned long v;
	int c;

	*o = (struct mg_opts){
		.port = MG_PORT_DEFAULT,
		.ttl = MG_TTL_DEFAULT,
		.count = recv ? 0 : MG_COUNT_DEFAULT,
		.size = 64,
		.pps = MG_PPS_DEFAULT,
	};
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			o->group_str = optarg;
			break;
		case 'p':
			if (parse_ulong("-p", optarg, 65535, &v) || v == 0)
				return -EINVAL;
			o->port = v;
			break;
		case 'I':
			o->iface = optarg;
			break;
		case 't':
			if (parse_ulong("-t", optarg, 255, &v))
				return -EINVAL;
			o->ttl = v;
			break;
		case 'n':
			if (parse_ulong("-n", optarg, UINT32_MAX, &v))
				return -EINVAL;
			o->count = v;
			break;
		case 's':
			if (parse_ulong("-s", optarg, MG_MAX_PAYLOAD, &v))
				return -EINVAL;
			if (v < sizeof(struct mg_hdr)) {
				fprintf(stderr, "mcast-gen: -s %lu is smaller than the %zu-byte header\n",
					v, sizeof(struct mg_hdr));
				return -EINVAL;
			}
			o->size = v;
			break;
		case 'r':
			if (parse_ulong("-r", optarg, 10000000, &v))
				return -EINVAL;
			o->pps = v;
			break;
		case 'T':
			if (parse_ulong("-T", optarg, 86400, &v))
				return -EINVAL;
			o->timeout = v;
			break;
		case OPT_SOURCE:
			o->source_str = optarg;
			break;
		case OPT_READY:
			if (!recv)
				goto bad;
			o->ready_file = optarg;
			break;
		case OPT_LOG:
			if (!recv)
				goto bad;
			o->log_file = optarg;
			break;
		case OPT_STREAM:
			if (recv || parse_ulong("--stream", optarg, UINT32_MAX, &v))
				goto bad;
			o->stream = v;
			o->have_stream = true;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			goto bad;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mcast-gen: unexpected argument '%s'\n", argv[optind]);
		goto bad;
	}
	if (!o->group_str) {
		fprintf(stderr, "mcast-gen: -g GROUP is required\n");
		goto bad;
	}
	if (parse_addr(o->group_str, &o->group) || !addr_is_mcast(&o->group)) {
		fprintf(stderr, "mcast-gen: '%s' is not an IPv4 or IPv6 multicast group\n",
			o->group_str);
		return -EINVAL;
	}
	if (o->source_str) {
		if (parse_addr(o->source_str, &o->source) ||
		    o->source.family != o->group.family ||
		    addr_is_mcast(&o->source)) {
			fprintf(stderr, "mcast-gen: source '%s' is not a unicast address of the family of %s\n",
				o->source_str, o->group_str);
			return -EINVAL;
		}
	}
	if (recv && !o->iface) {
		fprintf(stderr, "mcast-gen: recv needs -I IFACE\n");
		goto bad;
	}
	if (o->iface) {
		o->ifindex = if_nametoindex(o->iface);
		if (!o->ifindex) {
			int err = errno;

			fprintf(stderr, "mcast-gen: cannot %s %s on '%s': %s\n",
				recv ? "join" : "send to", o->group_str, o->iface,
				strerror(err));
			return -ENODEV;
		}
	}
	return 0;
bad:
	usage(stderr);
	return -EINVAL;
}

static socklen_t fill_sockaddr(const struct mg_addr *a, unsigned int port,
			       unsigned int scope, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->a.v4;
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = a->a.v6;
	sin6->sin6_scope_id = scope;
	return sizeof(*sin6);
}

/* Interface- and link-local IPv6 groups only mean something with a zone. */
static unsigned int v6_scope_for(const struct mg_addr *a, unsigned int ifindex)
{
	if (a->family == AF_INET6 &&
	    (IN6_IS_ADDR_MC_LINKLOCAL(&a->a.v6) || IN6_IS_ADDR_MC_NODELOCAL(&a->a.v6)))
		return ifindex;
	return 0;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timespec_add_ns(struct timespec *t, uint64_t ns)
{
	t->tv_sec += ns / 1000000000u;
	t->tv_nsec += ns % 1000000000u;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* Only the commands turn an errno into an exit status. */
static int exit_status(int err)
{
	switch (-err) {
	case ENODEV:
	case EADDRNOTAVAIL:
	case ENETUNREACH:
	case EHOSTUNREACH:
		return EX_UNAVAILABLE;	/* no such interface, address or route */
	case EPERM:
	case EACCES:
		return EX_NOPERM;
	default:
		return EX_OSERR;
	}
}

/* A JSON string; names of interfaces may hold any byte but '/' and spaces. */
static void json_str(const char *key, const char *v)
{
	printf(",\"%s\":\"", key);
	for (; *v; v++) {
		unsigned char c = *v;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* ---- send ---- */

static int sender_socket(const struct mg_opts *o)
{
	int fam = o->group.family;
	int s = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	int ttl = o->ttl, err;

	if (s < 0) {
		err = -errno;
		fprintf(stderr, "mcast-gen: cannot open a UDP socket: %s\n", strerror(-err));
		return err;
	}
	if (fam == AF_INET) {
		if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) {
			fprintf(stderr, "mcast-gen: cannot set TTL %d: %s\n", ttl, strerror(errno));
			goto fail;
		}
		if (o->ifindex) {
			struct ip_mreqn mr = { .imr_ifindex = o->ifindex };

			if (o->source.family)
				mr.imr_address = o->source.a.v4;
			if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0) {
				fprintf(stderr, "mcast-gen: cannot send %s out of '%s': %s\n",
					o->group_str, o->iface, strerror(errno));
				goto fail;
			}
		}
	} else {
		if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl)) < 0) {
			fprintf(stderr, "mcast-gen: cannot set hop limit %d: %s\n", ttl, strerror(errno));
			goto fail;
		}
		if (o->ifindex) {
			int idx = o->ifindex;

			if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0) {
				fprintf(stderr, "mcast-gen: cannot send %s out of '%s': %s\n",
					o->group_str, o->iface, strerror(errno));
				goto fail;
			}
		}
	}
	if (o->source.family) {
		struct sockaddr_storage ss;
		socklen_t len = fill_sockaddr(&o->source, 0,
					      v6_scope_for(&o->group, o->ifindex), &ss);

		if (bind(s, (struct sockaddr *)&ss, len) < 0) {
			fprintf(stderr, "mcast-gen: cannot send from %s: %s\n",
				o->source_str, strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	err = -errno;
	close(s);
	return err;
}

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_storage dst;
	unsigned long sent = 0, errors = 0;
	unsigned long long bytes = 0;
	struct mg_opts o;
	struct timespec next;
	uint64_t gap_ns;
	double t0, elapsed;
	socklen_t dlen;
	char *buf;
	int s, err, ret = EX_OK;

	err = parse_opts(argc, argv, false, &o);
	if (err)
		return err == -ENODEV ? EX_UNAVAILABLE : EX_USAGE;
	if (!o.have_stream && getrandom(&o.stream, sizeof(o.stream), 0) != sizeof(o.stream))
		o.stream = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	s = sender_socket(&o);
	if (s < 0)
		return exit_status(s);
	buf = calloc(1, o.size);
	if (!buf) {
		close(s);
		return EX_OSERR;
	}
	for (unsigned int i = sizeof(struct mg_hdr); i < o.size; i++)
		buf[i] = (char)i;
	dlen = fill_sockaddr(&o.group, o.port, v6_scope_for(&o.group, o.ifindex), &dst);
	gap_ns = o.pps ? 1000000000ull / o.pps : 0;

	install_signals();
	clock_gettime(CLOCK_MONOTONIC, &next);
	t0 = now_mono();
	for (uint32_t seq = 0; !stop_requested && (o.count == 0 || seq < o.count); seq++) {
		struct mg_hdr h = {
			.magic = htonl(MG_MAGIC),
			.stream = htonl(o.stream),
			.seq = htonl(seq),
			.count = htonl((uint32_t)o.count),
		};
		ssize_t n;

		memcpy(buf, &h, sizeof(h));
		/* A full queue is not loss on the wire: wait for room once. */
		for (int tries = 0; tries < 100; tries++) {
			n = sendto(s, buf, o.size, 0, (struct sockaddr *)&dst, dlen);
			if (n >= 0 || (errno != ENOBUFS && errno != EAGAIN))
				break;
			usleep(1000);
		}
		if (n < 0) {
			if (errors++ == 0)
				fprintf(stderr, "mcast-gen: cannot send to %s port %u: %s\n",
					o.group_str, o.port, strerror(errno));
			if (errno == ENETUNREACH || errno == ENODEV || errno == EADDRNOTAVAIL) {
				ret = exit_status(-errno);
				break;
			}
		} else {
			sent++;
			bytes += n;
		}
		if (gap_ns) {
			timespec_add_ns(&next, gap_ns);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR &&
			       !stop_requested)
				;
		}
	}
	elapsed = now_mono() - t0;
	printf("{\"cmd\":\"send\"");
	json_str("group", o.group_str);
	if (o.source_str)
		json_str("source", o.source_str);
	if (o.iface)
		json_str("iface", o.iface);
	printf(",\"port\":%u,\"stream\":%" PRIu32 ",\"ttl\":%u,\"sent\":%lu,\"bytes\":%llu"
	       ",\"errors\":%lu,\"elapsed_s\":%.3f}\n",
	       o.port, o.stream, o.ttl, sent, bytes, errors, elapsed);
	fflush(stdout);
	free(buf);
	close(s);
	if (ret == EX_OK && errors)
		ret = EX_IOERR;
	return ret;
}

/* ---- recv ---- */

struct mg_stream {
	uint32_t id;
	uint32_t count;		/* from the header, 0 = unknown */
	uint64_t unique;
	uint8_t *seen;		/* bitmap by sequence number */
	size_t seen_bytes;
};

struct mg_stats {
	uint64_t received, unique, duplicates, bytes, foreign, untracked;
	int ttl_min, ttl_max;	/* -1 until a datagram carried one */
	struct mg_stream streams[MG_MAX_STREAMS];
	unsigned int nstreams;
	FILE *log;		/* --log, or NULL */
};

static struct mg_stream *stream_get(struct mg_stats *st, uint32_t id)
{
	for (unsigned int i = 0; i < st->nstreams; i++)
		if (st->streams[i].id == id)
			return &st->streams[i];
	if (st->nstreams == MG_MAX_STREAMS)
		return NULL;
	st->streams[st->nstreams] = (struct mg_stream){ .id = id };
	return &st->streams[st->nstreams++];
}

/* Returns 1 when (stream, seq) is new, 0 for a duplicate, -1 when untracked. */
static int stream_mark(struct mg_stream *s, uint32_t seq)
{
	size_t byte = seq / 8;

	if (seq >= MG_MAX_SEQ)
		return -1;
	if (byte >= s->seen_bytes) {
		size_t n = s->seen_bytes ? s->seen_bytes : 64;
		uint8_t *p;

		while (n <= byte)
			n *= 2;
		p = realloc(s->seen, n);
		if (!p)
			return -1;
		memset(p + s->seen_bytes, 0, n - s->seen_bytes);
		s->seen = p;
		s->seen_bytes = n;
	}
	if (s->seen[byte] & (1u << (seq % 8)))
		return 0;
	s->seen[byte] |= 1u << (seq % 8);
	s->unique++;
	return 1;
}

static void account_datagram(struct mg_stats *st, const char *buf, ssize_t n, int ttl)
{
	struct mg_stream *s;
	struct mg_hdr h;

	st->received++;
	st->bytes += n;
	if (ttl >= 0) {
		if (st->ttl_min < 0 || ttl < st->ttl_min)
			st->ttl_min = ttl;
		if (ttl > st->ttl_max)
			st->ttl_max = ttl;
	}
	if ((size_t)n < sizeof(h)) {
		st->foreign++;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	if (ntohl(h.magic) != MG_MAGIC) {
		st->foreign++;
		return;
	}
	if (st->log)	/* line-buffered: a poller sees each datagram at once */
		fprintf(st->log, "%" PRIu32 " %" PRIu32 " %d\n", ntohl(h.stream),
			ntohl(h.seq), ttl);
	s = stream_get(st, ntohl(h.stream));
	if (!s) {
		st->untracked++;
		return;
	}
	if (h.count)
		s->count = ntohl(h.count);
	switch (stream_mark(s, ntohl(h.seq))) {
	case 1:
		st->unique++;
		break;
	case 0:
		st->duplicates++;
		break;
	default:
		st->untracked++;
	}
}

/* IP_ADD_SOURCE_MEMBERSHIP names the interface by address, not index. */
static int iface_ipv4(const char *name, struct in_addr *out)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFADDR, &ifr) < 0)
		ret = -errno;
	else
		*out = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	close(s);
	return ret;
}

static int join(int s, const struct mg_opts *o)
{
	int err;

	if (o->group.family == AF_INET && !o->source.family) {
		struct ip_mreqn mr = {
			.imr_multiaddr = o->group.a.v4,
			.imr_ifindex = o->ifindex,
		};

		return setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) ? -errno : 0;
	}
	if (o->group.family == AF_INET) {
		struct ip_mreq_source ms = {
			.imr_multiaddr = o->group.a.v4,
			.imr_sourceaddr = o->source.a.v4,
		};

		err = iface_ipv4(o->iface, &ms.imr_interface);
		if (err)
			return err;	/* EADDRNOTAVAIL: no IPv4 address there */
		return setsockopt(s, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
				  sizeof(ms)) ? -errno : 0;
	}
	if (!o->source.family) {
		struct ipv6_mreq mr = {
			.ipv6mr_multiaddr = o->group.a.v6,
			.ipv6mr_interface = o->ifindex,
		};

		return setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) ? -errno : 0;
	}
	struct group_source_req gsr = { .gsr_interface = o->ifindex };

	fill_sockaddr(&o->group, 0, 0, &gsr.gsr_group);
	fill_sockaddr(&o->source, 0, 0, &gsr.gsr_source);
	return setsockopt(s, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, &gsr,
			  sizeof(gsr)) ? -errno : 0;
}

static int receiver_socket(const struct mg_opts *o)
{
	struct sockaddr_storage ss;
	int fam = o->group.family;
	int one = 1, zero = 0, rcvbuf = 4 << 20;
	socklen_t len;
	int s, err;

	s = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (s < 0) {
		err = -errno;
		fprintf(stderr, "mcast-gen: cannot open a UDP socket: %s\n", strerror(-err));
		return err;
	}
	/* Several receivers of one host may share the port. */
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A deep queue (the kernel caps it at rmem_max): a receiver scheduled
	 * out for a moment must not lose what the network delivered. */
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fam == AF_INET) {
		setsockopt(s, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
		if (setsockopt(s, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) < 0)
			goto sockopt_fail;
	} else {
		setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof(zero));
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)) < 0)
			goto sockopt_fail;
	}
	/* Bound to the group: datagrams for other groups on the port stay out. */
	len = fill_sockaddr(&o->group, o->port, v6_scope_for(&o->group, o->ifindex), &ss);
	if (bind(s, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		fprintf(stderr, "mcast-gen: cannot bind %s port %u: %s\n",
			o->group_str, o->port, strerror(-err));
		close(s);
		return err;
	}
	err = join(s, o);
	if (err) {
		if (o->source.family)
			fprintf(stderr, "mcast-gen: cannot join (%s, %s) on '%s': %s\n",
				o->source_str, o->group_str, o->iface, strerror(-err));
		else
			fprintf(stderr, "mcast-gen: cannot join %s on '%s': %s\n",
				o->group_str, o->iface, strerror(-err));
		close(s);
		/* EINVAL from a join means the group or source is unusable there */
		return err == -EINVAL ? -EADDRNOTAVAIL : err;
	}
	return s;
sockopt_fail:
	err = -errno;
	fprintf(stderr, "mcast-gen: cannot ask for the TTL of received datagrams: %s\n",
		strerror(-err));
	close(s);
	return err;
}

/* Written whole under a temporary name, so a poller never sees half of it. */
static int write_ready_file(const char *path, const struct mg_opts *o)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d %s %s %u\n", (int)getpid(), o->iface, o->group_str, o->port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

static int recv_one(int s, struct mg_stats *st, char *buf, size_t size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int)) * 4];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	int ttl = -1;
	ssize_t n;

	n = recvmsg(s, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	}
	account_datagram(st, buf, n, ttl);
	return 1;
}

static void print_recv_json(const struct mg_opts *o, const struct mg_stats *st,
			    bool timed_out, double elapsed)
{
	uint64_t lost = 0;
	unsigned int complete = 0;

	for (unsigned int i = 0; i < st->nstreams; i++) {
		const struct mg_stream *s = &st->streams[i];

		if (s->count && s->unique < s->count)
			lost += s->count - s->unique;
		if (s->count && s->unique >= s->count)
			complete++;
	}
	printf("{\"cmd\":\"recv\"");
	json_str("group", o->group_str);
	if (o->source_str)
		json_str("source", o->source_str);
	json_str("iface", o->iface);
	printf(",\"port\":%u", o->port);
	printf(",\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"duplicates\":%" PRIu64
	       ",\"bytes\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"untracked\":%" PRIu64,
	       st->received, st->unique, st->duplicates, st->bytes, st->foreign,
	       st->untracked);
	if (st->ttl_min >= 0)
		printf(",\"ttl_min\":%d,\"ttl_max\":%d", st->ttl_min, st->ttl_max);
	else
		printf(",\"ttl_min\":null,\"ttl_max\":null");
	printf(",\"streams\":%u,\"complete_streams\":%u,\"lost\":%" PRIu64
	       ",\"timed_out\":%s,\"elapsed_s\":%.3f}\n",
	       st->nstreams, complete, lost, timed_out ? "true" : "false", elapsed);
	fflush(stdout);
}

static int cmd_recv(int argc, char **argv)
{
	static char buf[65536];
	struct mg_stats st = { .ttl_min = -1, .ttl_max = -1 };
	bool timed_out = false;
	double t0, deadline;
	struct mg_opts o;
	int s, err, ret = EX_OK;

	err = parse_opts(argc, argv, true, &o);
	if (err)
		return err == -ENODEV ? EX_UNAVAILABLE : EX_USAGE;
	s = receiver_socket(&o);
	if (s < 0)
		return exit_status(s);
	install_signals();
	if (o.log_file) {
		st.log = fopen(o.log_file, "w");
		if (!st.log) {
			fprintf(stderr, "mcast-gen: cannot write log file '%s': %s\n",
				o.log_file, strerror(errno));
			close(s);
			return EX_CANTCREAT;
		}
		setvbuf(st.log, NULL, _IOLBF, 0);
	}
	if (o.ready_file) {
		err = write_ready_file(o.ready_file, &o);
		if (err) {
			fprintf(stderr, "mcast-gen: cannot write ready file '%s': %s\n",
				o.ready_file, strerror(-err));
			if (st.log)
				fclose(st.log);
			close(s);
			return EX_CANTCREAT;
		}
	}
	t0 = now_mono();
	deadline = o.timeout ? t0 + o.timeout : 0;
	while (!stop_requested && (o.count == 0 || st.unique < o.count)) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		int wait_ms = -1;

		if (deadline) {
			double left = deadline - now_mono();

			if (left <= 0) {
				timed_out = true;
				break;
			}
			wait_ms = (int)(left * 1000) + 1;
		}
		err = poll(&pfd, 1, wait_ms);
		if (err < 0 && errno != EINTR) {
			fprintf(stderr, "mcast-gen: poll: %s\n", strerror(errno));
			ret = EX_OSERR;
			break;
		}
		if (err <= 0)
			continue;
		/* Drain what is queued before looking at the clock again. */
		while ((err = recv_one(s, &st, buf, sizeof(buf))) > 0 &&
		       (o.count == 0 || st.unique < o.count))
			;
		if (err < 0) {
			fprintf(stderr, "mcast-gen: cannot receive on %s: %s\n",
				o.group_str, strerror(-err));
			ret = EX_IOERR;
			break;
		}
	}
	print_recv_json(&o, &st, timed_out, now_mono() - t0);
	if (st.log && fclose(st.log) && ret == EX_OK) {
		fprintf(stderr, "mcast-gen: cannot write log file '%s': %s\n",
			o.log_file, strerror(errno));
		ret = EX_IOERR;
	}
	for (unsigned int i = 0; i < st.nstreams; i++)
		free(st.streams[i].seen);
	close(s);
	if (ret == EX_OK && o.count && st.unique < o.count)
		ret = 1;
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EX_OK;
	}
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "recv"))
		return cmd_recv(argc - 1, argv + 1);
	fprintf(stderr, "mcast-gen: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
