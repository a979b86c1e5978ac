#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Frames for the accelerator's differential test (tests/ns/test-accel.sh).

  accel-wire.py send IFACE SPEC      write the frames SPEC lists onto IFACE
  accel-wire.py sniff IFACE OUT      log every IP multicast frame that
                                     arrives on IFACE to OUT until SIGTERM
  accel-wire.py join IFACE SPEC      hold the memberships SPEC lists on
                                     IFACE (real sockets) until SIGTERM;
                                     touches SPEC.ready once joined

Send SPEC, one frame a line: VLAN SOURCE GROUP TTL ID (VLAN 0 untagged).
Each frame is UDP to port 5001 with payload "xa-ID" padded to 32 bytes,
the destination MAC the group's, the source MAC the interface's.  Frames
are paced (1 ms) so the kernel's unresolved queue never overflows.

Sniff lines: DMAC SMAC VLAN SRC GROUP TTL ID IPHEX, VLAN 0 untagged, IPHEX
the IP packet's bytes in hex (header and payload: every field the
accelerator rewrites or must keep).

Join SPEC, one membership a line: GROUP [include|exclude SOURCE...]; a
bare GROUP is any-source.
"""
import os
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(smac, vlan, src, grp, ttl, ident):
    payload = ("xa-%s" % ident).encode().ljust(32, b".")
    if ":" in grp:
        g = socket.inet_pton(socket.AF_INET6, grp)
        s = socket.inet_pton(socket.AF_INET6, src)
        dmac = b"\x33\x33" + g[12:]
        udp = struct.pack("!HHHH", 5001, 5001, 8 + len(payload), 0) + payload
        ph = s + g + struct.pack("!I3xB", len(udp), 17)
        udp = udp[:6] + struct.pack("!H", csum(ph + udp) or 0xFFFF) + udp[8:]
        ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, ttl) + s + g + udp
        etype = 0x86DD
    else:
        g = socket.inet_aton(grp)
        dmac = bytes([0x01, 0x00, 0x5E, g[1] & 0x7F, g[2], g[3]])
        udp = struct.pack("!HHHH", 5001, 5001, 8 + len(payload), 0) + payload
        ipid = int("0" + "".join(c for c in ident.split("-")[-1] if c.isdigit())) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ipid, 0,
                         ttl, 17, 0, socket.inet_aton(src), g)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + udp
        etype = 0x0800
    if vlan:
        return dmac + smac + struct.pack("!HHH", 0x8100, vlan, etype) + ip
    return dmac + smac + struct.pack("!H", etype) + ip


def mac_of(ifname):
    with open("/sys/class/net/%s/address" % ifname) as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def send(ifname, spec):
    smac = mac_of(ifname)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((ifname, 0))
    with open(spec) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            sock.send(frame(smac, int(w[0]), w[1], w[2], int(w[3]), w[4]))
            time.sleep(0.001)


def fmt_mac(b):
    return ":".join("%02x" % x for x in b)


def sniff(ifname, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((ifname, 0))
    ready = out + ".ready"
    with open(out, "w", buffering=1) as log:
        open(ready, "w").close()
        while not stop:
            try:
                r, _, _ = select.select([sock], [], [], 0.2)
            except InterruptedError:
                continue
            if not r:
                continue
            data, anc, _, addr = sock.recvmsg(4096, socket.CMSG_SPACE(64))
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            vlan = 0
            for level, typ, cdata in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA:
                    status = struct.unpack("I", cdata[:4])[0]
                    tci = struct.unpack("H", cdata[16:18])[0]
                    if status & TP_STATUS_VLAN_VALID:
                        vlan = tci & 0xFFF
            etype = struct.unpack("!H", data[12:14])[0]
            l3 = data[14:]
            if etype == 0x8100:
                vlan = struct.unpack("!H", data[14:16])[0] & 0xFFF
                etype = struct.unpack("!H", data[16:18])[0]
                l3 = data[18:]
            if etype == 0x0800 and len(l3) >= 20 and l3[9] == 17:
                hl = (l3[0] & 15) * 4
                tot = struct.unpack("!H", l3[2:4])[0]
                src, grp, ttl = socket.inet_ntoa(l3[12:16]), socket.inet_ntoa(l3[16:20]), l3[8]
                pl = l3[hl + 8:tot]
                l3 = l3[:tot]
            elif etype == 0x86DD and len(l3) >= 40 and l3[6] == 17:
                tot = 40 + struct.unpack("!H", l3[4:6])[0]
                src = socket.inet_ntop(socket.AF_INET6, l3[8:24])
                grp = socket.inet_ntop(socket.AF_INET6, l3[24:40])
                ttl = l3[7]
                pl = l3[48:tot]
                l3 = l3[:tot]
            else:
                continue
            if not pl.startswith(b"xa-"):
                continue
            ident = pl.rstrip(b".").decode(errors="replace")[3:]
            log.write("%s %s %d %s %s %d %s %s\n" % (fmt_mac(data[:6]), fmt_mac(data[6:12]),
                                                     vlan, src, grp, ttl, ident, l3.hex()))


def join(ifname, spec):
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    ifindex = socket.if_nametoindex(ifname)
    socks = []
    with open(spec) as f:
        lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
    for w in lines:
        grp = w[0]
        v6 = ":" in grp
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        level = socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP
        s = socket.socket(fam, socket.SOCK_DGRAM)
        gsa = sockaddr(grp)
        mode = w[1] if len(w) > 1 else "exclude"
        srcs = w[2:]
        if mode == "include":
            for src in srcs:   # MCAST_JOIN_SOURCE_GROUP = 46
                s.setsockopt(level, 46, struct.pack("I4x", ifindex) + gsa + sockaddr(src))
        else:                  # MCAST_JOIN_GROUP = 42, MCAST_BLOCK_SOURCE = 43
            s.setsockopt(level, 42, struct.pack("I4x", ifindex) + gsa)
            for src in srcs:
                s.setsockopt(level, 43, struct.pack("I4x", ifindex) + gsa + sockaddr(src))
        socks.append(s)
    open(spec + ".ready", "w").close()
    while not stop:
        time.sleep(0.1)


def sockaddr(addr):
    """A struct sockaddr_storage (128 bytes) holding addr."""
    if ":" in addr:
        sa = struct.pack("HHI", socket.AF_INET6, 0, 0) + socket.inet_pton(socket.AF_INET6, addr)
        sa += struct.pack("I", 0)
    else:
        sa = struct.pack("HH", socket.AF_INET, 0) + socket.inet_aton(addr)
    return sa.ljust(128, b"\0")


if __name__ == "__main__":
    cmd, ifname, arg = sys.argv[1:4]
    {"send": send, "sniff": sniff, "join": join}[cmd](ifname, arg)
