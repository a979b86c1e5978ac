#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""What the kernel's multicast routing would deliver: the reference of
tests/ns/test-accel.sh.

  accel-model.py [OPTION]...

Reads the frames that arrive on the router's links (built with
accel-wire.py's own frame()) and the router's routes, and writes, for each
outgoing interface asked for, the log a sniffer behind it would write
(accel-wire.py sniff: DMAC SMAC VLAN SRC GROUP TTL ID IPHEX).

  --in LINK=SPEC        frames arriving on LINK, in accel-wire.py send's
                        SPEC format (a frame's VLAN, if any, is added to
                        LINK: eth0 and VLAN 20 arrive on eth0.20)
  --out IFACE=FILE      write every copy that leaves IFACE to FILE, those
                        of a link with a VLAN (dn2.20) tagged
  --mac IFACE=MAC       IFACE's MAC, the source of every copy it sends
  --routes FILE         smcroute.conf text: `phyint IFACE [ttl-threshold N]`
                        (the VIF's threshold, default 1) and `mroute from
                        LINK [source ADDR[/LEN]] group GROUP[/LEN] to
                        LINK...`; other lines are ignored
  --threshold IFACE=N   a TTL threshold enforced on IFACE's egress besides
                        the VIF's (xdp-mcast's `phyint IFACE ttl-threshold
                        N`, docs/policy.md: the same comparison as ipmr's)
  --upstream LINK       with --members: a proxy's upstream
  --members LINK=SPEC   memberships held behind LINK, in accel-wire.py
                        join's SPEC format

The rules are the kernel's (net/ipv4/ipmr.c, net/ipv6/ip6mr.c) and
smcroute's, not the accelerator's:

- The multicast forwarding cache is keyed by (S,G).  smcroute installs an
  (S,G) route as it is; a frame of that (S,G) arriving on another link than
  the route's is dropped (ip_mr_forward: "wrong interface"), whatever else
  is routed.  Every other route (no source, a source or group prefix) is a
  template: at a frame's first packet (the kernel's NOCACHE upcall)
  smcroute looks for a template from the frame's incoming link that holds
  the source and group, and installs the (S,G) with its outgoing links, or
  with none when no template holds it.  smcroute takes the first template
  of its list; this model takes the most specific (longest group prefix,
  then longest source prefix), which is the same whenever templates do
  not overlap.
- A copy leaves through an outgoing VIF when the TTL (hop limit) is greater
  than the VIF's threshold in the entry (ipmr: `ttl > ttls[vif]`, before
  the decrement).  smcroute fills ttls[] from `phyint ttl-threshold`
  (default 1); ip6mr takes a set of MIFs and puts 1 for each, so IPv6
  thresholds are always 1.  An entry may send back out of its own
  incoming VIF: ipmr excludes it only for kernel (*,G) entries, which
  smcroute never installs.
- Each copy: TTL - 1 with the header checksum adjusted as ip_decrease_ttl()
  does, hop limit - 1 for IPv6; destination MAC the group's
  (ip_eth_mc_map, ipv6_eth_mc_map), source MAC the outgoing device's,
  tagged with the outgoing link's VLAN.  Nothing else changes.
- Memberships (a proxy such as igmpproxy, with the kernel as its data
  path): a frame from S to G arriving on the upstream link goes to every
  link whose membership for G forwards S (RFC 3376 6.3, and MLDv2 alike:
  INCLUDE lists the sources it wants, EXCLUDE those it blocks; a bare
  group is EXCLUDE with none), each VIF with threshold 1.
"""
import argparse
import importlib.util
import ipaddress
import os
import socket
import struct
import sys

_spec = importlib.util.spec_from_file_location(
    "accel_wire", os.path.join(os.path.dirname(os.path.abspath(__file__)), "accel-wire.py"))
wire = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wire)


def port_of(link):
    """(IFACE, VLAN) of a link name such as dn2 or dn2.20."""
    iface, _, vlan = link.partition(".")
    return iface, int(vlan) if vlan else 0


def spec_lines(path):
    with open(path) as f:
        for line in f:
            w = line.split()
            if w and not w[0].startswith("#"):
                yield w


class Route:
    def __init__(self, words):
        # mroute from LINK [source ADDR[/LEN]] group GROUP[/LEN] to LINK...
        if words[:2] != ["mroute", "from"] or "group" not in words or "to" not in words:
            raise ValueError("not an mroute line: %s" % " ".join(words))
        self.iif = words[2]
        rest = words[3:]
        self.source = None
        if rest[0] == "source":
            self.source = ipaddress.ip_network(rest[1], strict=False)
            rest = rest[2:]
        if rest[0] != "group":
            raise ValueError("expected group: %s" % " ".join(words))
        self.group = ipaddress.ip_network(rest[1], strict=False)
        if rest[2] != "to":
            raise ValueError("expected to: %s" % " ".join(words))
        self.oifs = rest[3:]
        if self.source is None:
            self.source = ipaddress.ip_network("::/0" if self.group.version == 6 else "0.0.0.0/0")
        if self.source.version != self.group.version:
            raise ValueError("source and group of two families: %s" % " ".join(words))

    def exact(self):
        """An (S,G) route, installed in the kernel as it is."""
        return (self.source.prefixlen == self.source.max_prefixlen and
                self.group.prefixlen == self.group.max_prefixlen)

    def holds(self, src, grp):
        return src in self.source and grp in self.group


class Router:
    def __init__(self, args):
        self.routes = []
        self.vif_thr = {}
        self.egress_thr = {}
        self.macs = {}
        for kv in args.mac:
            iface, mac = kv.split("=", 1)
            self.macs[iface] = bytes.fromhex(mac.replace(":", ""))
        for kv in args.threshold:
            iface, n = kv.split("=", 1)
            self.egress_thr[iface] = int(n)
        if args.routes:
            for w in spec_lines(args.routes):
                if w[0] == "phyint" and "ttl-threshold" in w:
                    self.vif_thr[w[1]] = int(w[w.index("ttl-threshold") + 1])
                elif w[0] == "mroute":
                    self.routes.append(Route(w))
        self.upstream = args.upstream
        self.members = {}
        for kv in args.members:
            link, path = kv.split("=", 1)
            for w in spec_lines(path):
                mode = w[1] if len(w) > 1 else "exclude"
                srcs = {ipaddress.ip_address(s) for s in w[2:]}
                self.members.setdefault(ipaddress.ip_address(w[0]), {})[link] = (mode, srcs)
        if self.members and (self.routes or not self.upstream):
            raise ValueError("--members needs --upstream and no mroute lines")

    def oifs(self, iif, src, grp):
        """The entry the kernel uses for (src, grp) arriving on iif: its
        outgoing links, or [] (no entry, or the wrong interface)."""
        if self.members:
            if iif != self.upstream:
                return []
            return sorted(link for link, (mode, srcs) in self.members.get(grp, {}).items()
                          if (src in srcs) == (mode == "include"))
        for r in self.routes:
            if r.exact() and r.holds(src, grp):
                return r.oifs if r.iif == iif else []
        best = None
        for r in self.routes:
            if r.exact() or r.iif != iif or not r.holds(src, grp):
                continue
            if best is None or ((r.group.prefixlen, r.source.prefixlen) >
                                (best.group.prefixlen, best.source.prefixlen)):
                best = r
        return best.oifs if best else []

    def threshold(self, link, v6):
        iface, _ = port_of(link)
        vif = 1 if v6 or self.members else self.vif_thr.get(iface, 1)
        return max(vif, self.egress_thr.get(iface, 0))


def ip_decrease_ttl(ip):
    """ip_decrease_ttl() of include/net/ip.h: the checksum, in network
    order, plus 0x0100 with the end-around carry folded in as the kernel
    does it (a sum reaching 0xffff wraps to 0)."""
    check = struct.unpack("!H", ip[10:12])[0] + 0x0100
    check = (check + (check >= 0xFFFF)) & 0xFFFF
    return ip[:8] + bytes([ip[8] - 1]) + ip[9:10] + struct.pack("!H", check) + ip[12:]


def copy_of(ip, v6, smac, vlan, ident):
    if v6:
        out = ip[:7] + bytes([ip[7] - 1]) + ip[8:]
        src, grp, ttl = (socket.inet_ntop(socket.AF_INET6, out[8:24]),
                         socket.inet_ntop(socket.AF_INET6, out[24:40]), out[7])
        dmac = b"\x33\x33" + out[36:40]
    else:
        out = ip_decrease_ttl(ip)
        src, grp, ttl = socket.inet_ntoa(out[12:16]), socket.inet_ntoa(out[16:20]), out[8]
        dmac = bytes([0x01, 0x00, 0x5E, out[17] & 0x7F, out[18], out[19]])
    return "%s %s %d %s %s %d %s %s\n" % (wire.fmt_mac(dmac), wire.fmt_mac(smac), vlan, src,
                                          grp, ttl, ident, out.hex())


def run(args):
    rtr = Router(args)
    outs = dict(kv.split("=", 1) for kv in args.out)
    logs = {iface: [] for iface in outs}
    for kv in args.__dict__["in"]:
        port, path = kv.split("=", 1)
        for w in spec_lines(path):
            vlan, src, grp, ttl, ident = int(w[0]), w[1], w[2], int(w[3]), w[4]
            eth = wire.frame(b"\0" * 6, 0, src, grp, ttl, ident)
            ip, v6 = eth[14:], ":" in grp
            iif = "%s.%d" % (port, vlan) if vlan else port
            for link in rtr.oifs(iif, ipaddress.ip_address(src), ipaddress.ip_address(grp)):
                iface, tag = port_of(link)
                if ttl > rtr.threshold(link, v6) and iface in logs:
                    logs[iface].append(copy_of(ip, v6, rtr.macs[iface], tag, ident))
    for iface, path in outs.items():
        with open(path, "w") as f:
            f.writelines(logs[iface])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for opt in ("--in", "--out", "--mac", "--threshold", "--members"):
        p.add_argument(opt, action="append", default=[])
    p.add_argument("--routes")
    p.add_argument("--upstream")
    try:
        run(p.parse_args())
    except (ValueError, KeyError, IndexError, OSError) as e:
        print("accel-model.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
