#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Probe the daemon's metrics listener the way hostile or careless clients
would, and print one line per case: NAME RESULT, RESULT "ok" or a reason.

    http-probe.py HOST PORT CASE...

Cases:
  methods     GET /metrics 200, HEAD /metrics 200 without a body,
              GET /other 404, POST and DELETE /metrics 405 with Allow,
              garbage 400, a query string is ignored
  oversized   20000 bytes of headers: 431, the connection closed
  slow        a request that never ends: closed within the read timeout
              (5 s), while a scrape on the side is answered at once
  slowloris   40 connections trickling (more than the 32 allowed): a scrape
              is still answered
  parallel    20 clients scraping 5 times each at once: every one is 200
              with a whole page
Only the address given is contacted (the test passes its namespace's
loopback); every loop is bounded in count and time.
"""
import socket
import sys
import threading
import time


def request(host, port, data, timeout=5.0):
    """Send data, read to EOF: (status or None, headers, body, seconds)."""
    t0 = time.monotonic()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = None
    if lines and lines[0].startswith("HTTP/1."):
        status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, time.monotonic() - t0


def scrape(host, port):
    return request(host, port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")


def whole_page(status, headers, body):
    return (status == 200 and body.endswith(b"\n") and b"\nxdp_mcast_flows " in body
            and int(headers.get("content-length", -1)) == len(body))


def case_methods(host, port):
    bad = []
    st, h, body, _ = scrape(host, port)
    if not whole_page(st, h, body):
        bad.append("GET %s" % st)
    if not h.get("content-type", "").startswith("text/plain; version=0.0.4"):
        bad.append("content-type %r" % h.get("content-type"))
    st, h, body, _ = request(host, port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    if st != 200 or body or int(h.get("content-length", 0)) == 0:
        bad.append("HEAD %s body %d" % (st, len(body)))
    st, _, _, _ = request(host, port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    if st != 200:
        bad.append("query %s" % st)
    for path in (b"/", b"/other", b"/metrics/", b"/metricsx"):
        st, _, _, _ = request(host, port, b"GET " + path + b" HTTP/1.1\r\n\r\n")
        if st != 404:
            bad.append("%s %s" % (path.decode(), st))
    for m in (b"POST", b"DELETE", b"PUT"):
        st, h, _, _ = request(host, port, m + b" /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        if st != 405 or h.get("allow") != "GET, HEAD":
            bad.append("%s %s allow %r" % (m.decode(), st, h.get("allow")))
    for junk in (b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"GET /metrics SPDY/9\r\n\r\n", b"\r\n\r\n"):
        st, _, _, _ = request(host, port, junk)
        if st != 400:
            bad.append("%r %s" % (junk, st))
    return bad


def case_oversized(host, port):
    data = b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    try:
        st, _, _, sec = request(host, port, data)
    except (BrokenPipeError, ConnectionResetError):
        return ["reset before any answer"]
    bad = []
    if st != 431:
        bad.append("status %s" % st)
    if sec > 2:
        bad.append("took %.1f s" % sec)
    return bad


def trickle(host, port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"GET /metr")
        socks.append(s)
    return socks


def case_slow(host, port):
    bad = []
    s = trickle(host, port, 1)[0]
    t0 = time.monotonic()
    st, h, body, sec = scrape(host, port)
    if not whole_page(st, h, body) or sec > 1:
        bad.append("side scrape %s in %.1f s" % (st, sec))
    s.settimeout(10)
    try:
        while time.monotonic() - t0 < 10:
            s.send(b"i")  # a byte now and then does not extend the deadline
            time.sleep(0.5)
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    break
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
    except (BrokenPipeError, ConnectionResetError):
        pass
    waited = time.monotonic() - t0
    s.close()
    if not 4 <= waited <= 7.5:
        bad.append("closed after %.1f s, want about 5" % waited)
    return bad


def case_slowloris(host, port):
    socks = trickle(host, port, 40)
    try:
        st, h, body, sec = scrape(host, port)
        bad = [] if whole_page(st, h, body) and sec < 2 else ["scrape %s in %.1f s" % (st, sec)]
    finally:
        for s in socks:
            s.close()
    return bad


def case_parallel(host, port):
    results = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            try:
                st, h, body, _ = scrape(host, port)
                r = whole_page(st, h, body)
            except OSError as e:
                r = str(e)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    good = sum(1 for r in results if r is True)
    return [] if good == 100 else ["%d of 100 whole pages: %r" % (good, [r for r in results if r is not True][:3])]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    for name in sys.argv[3:]:
        try:
            bad = globals()["case_" + name](host, port)
        except Exception as e:  # a probe that fails says why
            bad = ["%s: %s" % (type(e).__name__, e)]
        print(name, "ok" if not bad else "; ".join(bad), flush=True)


if __name__ == "__main__":
    main()
