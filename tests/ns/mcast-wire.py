#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""IGMP and MLD messages crafted with scapy onto a link, and a log of the
IGMP and MLD messages that arrive there (the router's queries).

  mcast-wire.py send MESSAGE...
  mcast-wire.py serve --ack FILE [--input FILE] [--log FILE] [--listen IFACE]...

send sends each MESSAGE (one argument each) and exits, 1 on an error.
serve reads MESSAGEs one per line from --input (default stdin) and sends
each at once; for line N it appends "N ok" or "N error: WHY" to the ack
file, after writing "0 ready" once it listens, so a caller knows when a
message is on the wire.  With --listen it logs every IGMP and MLD message
arriving on those interfaces to --log, one line each (see log_line()).

A MESSAGE is words: IFACE KIND [ARG...] [KEY=VALUE...]

  IGMP  v1 GROUP | v2 GROUP | leave GROUP | v3 REC... | query [GROUP [SOURCE...]]
  MLD   mld1 GROUP | done GROUP | mld2 REC... | mldquery [GROUP [SOURCE...]]

REC is TYPE/GROUP[/SOURCE,SOURCE...]; TYPE is is_in, is_ex, to_in, to_ex,
allow, block, or a number (an unknown record type).  Everything is as a
host or a router sends it unless told otherwise: correct checksums, TTL
(hop limit) 1, the router alert option (IPv4 option 148, or a hop-by-hop
header), v3 reports to 224.0.0.22 and MLDv2 reports to ff02::16, leaves to
224.0.0.2, dones to ff02::2, general queries to 224.0.0.1 or ff02::1,
everything else to its group, on the group's own MAC.  KEY=VALUE changes it:

  src=ADDR dst=ADDR ttl=N ra=0   IP source (default 10.20.0.2, fe80::2), ...
  v=N                            query version (IGMP 1-3, default 3; MLD 1-2)
  mrt=MS qrv=N qqic=N s=1        query fields (Max Resp in ms, default 1000)
  fill=N fillbase=GROUP          N more IS_EX({}) records, GROUP, GROUP+1, ...
  nrec=N nsrc=N type=N           overwrite the record count, the source count
                                 (of the first record, or of the query), the type
  len=N                          cut or zero-pad the IGMP/ICMPv6 message to N bytes
  csum=bad ipcsum=bad            spoil the message or the IPv4 header checksum
  frag=1                         IPv4 MF flag / IPv6 fragment header (offset 0, M)
  ext=H,H,...                    IPv6 extension headers in this order: hbh (router
                                 alert), dst (destination options), rt (routing)
  ipopt=HEX                      IPv4 options, raw, instead of the router alert
  pad=N vlan=N mac=MAC count=N   Ethernet padding, an 802.1Q tag, the destination
                                 MAC, copies to send back to back

Every checksum is computed after the changes, unless spoiled on purpose.
"""
import argparse
import ipaddress
import socket
import struct
import sys
import threading
import time

from scapy.config import conf

conf.verb = 0
from scapy.compat import raw  # noqa: E402
from scapy.contrib.igmp import IGMP  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mq, IGMPv3mr  # noqa: E402
from scapy.layers.inet import IP, IPOption_Router_Alert  # noqa: E402
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,  # noqa: E402
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN,
                                RouterAlert, ICMPv6MLDMultAddrRec, ICMPv6MLDone,
                                ICMPv6MLQuery, ICMPv6MLQuery2, ICMPv6MLReport,
                                ICMPv6MLReport2)
from scapy.utils import checksum  # noqa: E402

REC_TYPES = {"is_in": 1, "is_ex": 2, "to_in": 3, "to_ex": 4, "allow": 5, "block": 6}
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
SO_TIMESTAMPNS = 35
IPPROTO_IGMP = 2
IPPROTO_ICMPV6 = 58
EXT_HEADERS = (0, 43, 44, 60)	# hop-by-hop, routing, fragment, destination options
MLD_TYPES = (130, 131, 132, 143)


class Bad(Exception):
    """A message that cannot be built as written."""


# ---- building ----

def records(args, o, v6):
    """The group records of a v3 report or an MLDv2 report."""
    out = []
    for a in args:
        parts = a.split("/")
        if len(parts) not in (2, 3) or not parts[1]:
            raise Bad("record '%s' is not TYPE/GROUP[/SOURCES]" % a)
        t = REC_TYPES.get(parts[0].lower())
        if t is None:
            try:
                t = int(parts[0], 0)
            except ValueError:
                raise Bad("unknown record type '%s'" % parts[0]) from None
        srcs = [s for s in parts[2].split(",") if s] if len(parts) == 3 else []
        out.append((t, parts[1], srcs))
    base = ipaddress.ip_address(o.get("fillbase", "ff0e::fe:0" if v6 else "239.254.0.0"))
    for i in range(int(o.get("fill", 0))):
        out.append((2, str(base + i), []))
    if v6:
        return [ICMPv6MLDMultAddrRec(rtype=t, dst=g, sources=s) for t, g, s in out]
    return [IGMPv3gr(rtype=t, maddr=g, srcaddrs=s) for t, g, s in out]


def igmp_message(kind, args, o):
    """The IGMP message, and the IP destination it goes to."""
    mrt = int(o.get("mrt", 1000))
    if kind in ("v1", "v2", "leave"):
        if len(args) != 1:
            raise Bad("%s takes one group" % kind)
        t = {"v1": 0x12, "v2": 0x16, "leave": 0x17}[kind]
        return raw(IGMP(type=t, mrcode=0, gaddr=args[0])), \
            "224.0.0.2" if kind == "leave" else args[0]
    if kind == "v3":
        m = IGMPv3(type=0x22, mrcode=0) / IGMPv3mr(records=records(args, o, False))
        return raw(m), "224.0.0.22"
    group = args[0] if args else "0.0.0.0"
    dst = "224.0.0.1" if group == "0.0.0.0" else group
    v = int(o.get("v", 3))
    if v == 1:
        return raw(IGMP(type=0x11, mrcode=0, gaddr=group)), dst
    if v == 2:
        return raw(IGMP(type=0x11, mrcode=mrt // 100, gaddr=group)), dst
    if mrt // 100 > 127 or int(o.get("qqic", 0)) > 255:
        raise Bad("mrt above 12.7 s needs the exponential code: not done here")
    m = IGMPv3(type=0x11, mrcode=mrt // 100) / IGMPv3mq(
        gaddr=group, s=int(o.get("s", 0)), qrv=int(o.get("qrv", 2)),
        qqic=int(o.get("qqic", 125)), srcaddrs=args[1:])
    return raw(m), dst


def mld_message(kind, args, o):
    """The MLD message as a scapy layer (its checksum is computed later),
    and the IP destination."""
    mrt = int(o.get("mrt", 1000))
    if kind in ("mld1", "done"):
        if len(args) != 1:
            raise Bad("%s takes one group" % kind)
        if kind == "done":
            return ICMPv6MLDone(mladdr=args[0]), "ff02::2"
        return ICMPv6MLReport(mladdr=args[0]), args[0]
    if kind == "mld2":
        return ICMPv6MLReport2(records=records(args, o, True)), "ff02::16"
    group = args[0] if args else "::"
    dst = "ff02::1" if group == "::" else group
    if int(o.get("v", 2)) == 1:
        return ICMPv6MLQuery(mrd=mrt, mladdr=group), dst
    if mrt > 32767:
        raise Bad("mrt above 32.767 s needs the exponential code: not done here")
    return ICMPv6MLQuery2(mrd=mrt, mladdr=group, S=int(o.get("s", 0)),
                          QRV=int(o.get("qrv", 2)), QQIC=int(o.get("qqic", 125)),
                          sources=args[1:]), dst


def patch_message(b, o, v6):
    """The changes asked of the IGMP or ICMPv6 message itself."""
    b = bytearray(b)
    if "type" in o:
        b[0] = int(o["type"], 0)
    if "nrec" in o:
        struct.pack_into("!H", b, 6, int(o["nrec"]))
    if "nsrc" in o:
        if b[0] in (0x22, 143):		# the first record's count
            struct.pack_into("!H", b, 8 + 2, int(o["nsrc"]))
        else:				# a v3 / MLDv2 query's
            struct.pack_into("!H", b, 26 if v6 else 10, int(o["nsrc"]))
    if "len" in o:
        n = int(o["len"])
        b = b[:n] + bytearray(max(0, n - len(b)))
    return b


def ipv6_pseudo_sum(ip6, ulen):
    return ip6[8:40] + struct.pack("!IxxxB", ulen, IPPROTO_ICMPV6)


def build_ipv4(kind, args, o):
    msg, dst = igmp_message(kind, args, o)
    msg = patch_message(msg, o, False)
    msg[2:4] = b"\0\0"
    msg[2:4] = struct.pack("!H", checksum(bytes(msg)))
    if o.get("csum") == "bad":
        msg[2] ^= 0xff
    opts = [IPOption_Router_Alert()] if o.get("ra", "1") != "0" else []
    ip = IP(src=o.get("src", "10.20.0.2"), dst=o.get("dst", dst), ttl=int(o.get("ttl", 1)),
            proto=IPPROTO_IGMP, options=opts, flags="MF" if o.get("frag") == "1" else 0)
    b = bytearray(raw(ip / bytes(msg)))
    if "ipopt" in o:	# raw options instead: the header is rebuilt around them
        opt = bytes.fromhex(o["ipopt"])
        if len(opt) % 4:
            raise Bad("ipopt must be whole 32-bit words")
        body = b[(b[0] & 15) * 4:]
        b = b[:20] + opt + body
        b[0] = 0x40 | (20 + len(opt)) // 4
        struct.pack_into("!H", b, 2, len(b))
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", checksum(bytes(b[:(b[0] & 15) * 4])))
    if o.get("ipcsum") == "bad":
        b[10] ^= 0xff
    return bytes(b), o.get("dst", dst)


def build_ipv6(kind, args, o):
    layer, dst = mld_message(kind, args, o)
    ip = IPv6(src=o.get("src", "fe80::2"), dst=o.get("dst", dst), hlim=int(o.get("ttl", 1)))
    chain = o["ext"].split(",") if "ext" in o else (["hbh"] if o.get("ra", "1") != "0" else [])
    if o.get("frag") == "1":
        chain.append("frag")
    pkt = ip
    for h in chain:
        if h == "hbh":
            pkt = pkt / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
        elif h == "dst":
            pkt = pkt / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
        elif h == "rt":
            pkt = pkt / IPv6ExtHdrRouting(addresses=[], segleft=0)
        elif h == "frag":
            pkt = pkt / IPv6ExtHdrFragment(m=1, offset=0, id=0x1234)
        else:
            raise Bad("unknown extension header '%s'" % h)
    b = bytearray(raw(pkt / layer))
    # Find the ICMPv6 message behind the extension headers, change it, and
    # put it back with the payload length and the checksum it now needs.
    off, nh = 40, b[6]
    while nh in EXT_HEADERS:
        nh, off = b[off], off + (8 if nh == 44 else (b[off + 1] + 1) * 8)
    msg = patch_message(b[off:], o, True)
    msg[2:4] = b"\0\0"
    msg[2:4] = struct.pack("!H", checksum(bytes(ipv6_pseudo_sum(b, len(msg)) + msg)))
    if o.get("csum") == "bad":
        msg[2] ^= 0xff
    b = b[:off] + msg
    struct.pack_into("!H", b, 4, len(b) - 40)
    return bytes(b), o.get("dst", dst)


def group_mac(dst):
    a = ipaddress.ip_address(dst)
    if a.version == 4:
        return bytes([0x01, 0x00, 0x5e, a.packed[1] & 0x7f]) + a.packed[2:]
    return b"\x33\x33" + a.packed[12:]


def parse_mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def build(words):
    """The Ethernet frame of one MESSAGE, its interface and copy count."""
    if len(words) < 2:
        raise Bad("a message is IFACE KIND [ARG...] [KEY=VALUE...]")
    iface, kind = words[0], words[1]
    args = [w for w in words[2:] if "=" not in w]
    o = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    if kind in ("v1", "v2", "leave", "v3", "query"):
        ip, dst, etype = *build_ipv4(kind, args, o), 0x0800
    elif kind in ("mld1", "done", "mld2", "mldquery"):
        ip, dst, etype = *build_ipv6(kind, args, o), 0x86dd
    else:
        raise Bad("unknown kind '%s'" % kind)
    smac = parse_mac(open("/sys/class/net/%s/address" % iface).read().strip())
    dmac = parse_mac(o["mac"]) if "mac" in o else group_mac(dst)
    if "vlan" in o:
        eth = dmac + smac + struct.pack("!HHH", 0x8100, int(o["vlan"]), etype)
    else:
        eth = dmac + smac + struct.pack("!H", etype)
    return iface, eth + ip + bytes(int(o.get("pad", 0))), int(o.get("count", 1))


class Sender:
    def __init__(self):
        self.socks = {}

    def send(self, line):
        iface, frame, count = build(line.split())
        s = self.socks.get(iface)
        if s is None:
            s = self.socks[iface] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((iface, 0))
        for _ in range(count):
            s.send(frame)


# ---- listening ----

def ipv4_has_ra(ip):
    opts, i = ip[20:(ip[0] & 15) * 4], 0
    while i < len(opts) and opts[i] != 0:
        if opts[i] == 1:
            i += 1
            continue
        if opts[i] == 148:
            return True
        i += max(2, opts[i + 1] if i + 1 < len(opts) else 2)
    return False


def describe_query(m, v6, alen):
    """group= mrt= [s= qrv= qqi=] sources= of a query message m."""
    if v6:
        group = socket.inet_ntop(socket.AF_INET6, m[8:24])
        if len(m) == 24:
            return "v=1 group=%s mrt=%d" % (group, struct.unpack("!H", m[4:6])[0])
        if len(m) < 28:
            return "v=? group=%s len=%d" % (group, len(m))
        flags, qqic, nsrc, tail = m[24], m[25], struct.unpack("!H", m[26:28])[0], 28
        mrt = struct.unpack("!H", m[4:6])[0]
    else:
        group = socket.inet_ntop(socket.AF_INET, m[4:8])
        if len(m) == 8:
            return "v=%d group=%s mrt=%d" % (2 if m[1] else 1, group, m[1] * 100)
        if len(m) < 12:
            return "v=? group=%s len=%d" % (group, len(m))
        flags, qqic, nsrc, tail = m[8], m[9], struct.unpack("!H", m[10:12])[0], 12
        mrt = m[1] * 100
    af = socket.AF_INET6 if v6 else socket.AF_INET
    srcs = [socket.inet_ntop(af, m[tail + i * alen:tail + (i + 1) * alen]) for i in range(nsrc)]
    return "v=%d group=%s mrt=%d s=%d qrv=%d qqi=%d sources=%s" % (
        2 if v6 else 3, group, mrt, flags >> 3 & 1, flags & 7, qqic, ",".join(srcs) or "-")


def log_line(frame):
    """One IGMP or MLD frame as a line, or None:
    igmp|mld query|type=N src= dst= ttl= ra=0|1 csum=ok|bad [query fields] [vlan=N]"""
    etype, off, vlan = struct.unpack("!H", frame[12:14])[0], 14, ""
    while etype in (0x8100, 0x88a8) and len(frame) >= off + 4:
        vlan = " vlan=%d" % (struct.unpack("!H", frame[off:off + 2])[0] & 0xfff)
        etype, off = struct.unpack("!H", frame[off + 2:off + 4])[0], off + 4
    ip = frame[off:]
    line = describe(etype, ip)
    return line + vlan if line else None


def describe(etype, ip):
    if etype == 0x0800 and len(ip) >= 20 and ip[9] == IPPROTO_IGMP:
        hl, tot = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
        m = ip[hl:tot]
        src, dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
        head = "igmp %s src=%s dst=%s ttl=%d ra=%d csum=%s" % (
            "query" if m[:1] == b"\x11" else "type=0x%02x" % m[0], src, dst, ip[8],
            ipv4_has_ra(ip), "ok" if checksum(bytes(m)) == 0 else "bad")
        return head + (" " + describe_query(m, False, 4) if m[:1] == b"\x11" else "")
    if etype == 0x86dd and len(ip) >= 40:
        end, nh, p, ra = 40 + struct.unpack("!H", ip[4:6])[0], ip[6], 40, False
        while nh in EXT_HEADERS and p + 8 <= end:
            if nh == 0 and b"\x05\x02\x00\x00" in ip[p + 2:p + (ip[p + 1] + 1) * 8]:
                ra = True
            nh, p = ip[p], p + (8 if nh == 44 else (ip[p + 1] + 1) * 8)
        m = ip[p:end]
        if nh != IPPROTO_ICMPV6 or not m or m[0] not in MLD_TYPES:
            return None
        ok = checksum(bytes(ipv6_pseudo_sum(ip, len(m)) + m)) == 0
        head = "mld %s src=%s dst=%s ttl=%d ra=%d csum=%s" % (
            "query" if m[0] == 130 else "type=%d" % m[0],
            socket.inet_ntop(socket.AF_INET6, ip[8:24]),
            socket.inet_ntop(socket.AF_INET6, ip[24:40]), ip[7], ra, "ok" if ok else "bad")
        return head + (" " + describe_query(m, True, 16) if m[0] == 130 else "")
    return None


def listen(iface, log, lock):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((iface, ETH_P_ALL))
    return threading.Thread(target=listen_loop, args=(s, iface, log, lock), daemon=True)


def with_tag(frame, cmsgs):
    """The frame with the VLAN tag the kernel took off put back (PACKET_AUXDATA)."""
    for level, kind, data in cmsgs:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= 20:
            status, _, _, _, _, tci, tpid = struct.unpack("=IIIHHHH", data[:20])
            if status & TP_STATUS_VLAN_VALID:
                return frame[:12] + struct.pack("!HH", tpid or 0x8100, tci) + frame[12:]
    return frame


def arrival(cmsgs):
    """When the kernel took the frame in (SO_TIMESTAMPNS), or now."""
    for level, kind, data in cmsgs:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("=qq", data[:16])
            return sec + nsec / 1e9
    return time.time()


def listen_loop(s, iface, log, lock):
    while True:
        frame, cmsgs, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(32) + socket.CMSG_SPACE(16))
        if addr[2] == PACKET_OUTGOING:
            continue
        when = arrival(cmsgs)
        frame = with_tag(frame, cmsgs)
        try:
            line = log_line(frame)
        except (IndexError, struct.error, ValueError) as e:
            line = "undecodable %s" % e
        if line:
            with lock:
                log.write("%.3f %s %s\n" % (when, iface, line))
                log.flush()


def serve(a):
    sender, lock = Sender(), threading.Lock()
    log = open(a.log, "a") if a.log else None
    threads = [listen(i, log, lock) for i in a.listen] if log else []
    for t in threads:
        t.start()
    ack = open(a.ack, "a")
    ack.write("0 ready\n")
    ack.flush()
    inp = open(a.input) if a.input else sys.stdin
    n = 0
    while True:
        line = inp.readline()
        if not line:
            return 0
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        n += 1
        try:
            sender.send(line)
            ack.write("%d ok\n" % n)
        except (Bad, OSError, ValueError, KeyError) as e:
            ack.write("%d error: %s: %s\n" % (n, line, e))
        ack.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("message", nargs="+")
    v = sub.add_parser("serve")
    v.add_argument("--ack", required=True)
    v.add_argument("--input")
    v.add_argument("--log")
    v.add_argument("--listen", action="append", default=[])
    a = p.parse_args()
    if a.cmd == "serve":
        return serve(a)
    sender = Sender()
    for m in a.message:
        try:
            sender.send(m)
        except (Bad, OSError, ValueError, KeyError) as e:
            print("mcast-wire: %s: %s" % (m, e), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
