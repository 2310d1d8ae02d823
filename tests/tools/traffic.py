#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Traffic for netchaos' end-to-end tests: real sockets, bounded in count and
time, talking only to the addresses the test gives (its own namespaces).

  udp-sink  --bind ADDR --port P --seconds S [--stop-file F] [--expect N]
            count datagrams and check payloads; stops once F exists or N
            distinct datagrams arrived
  udp-send  --to ADDR --port P --count N [--gap-us U] [--size B] [--sport P]
  tcp-echo  --bind ADDR --port P --seconds S      echo server
  tcp-probe --to ADDR --port P [--timeout S]      connect + echo once; exit 0 if ok
  tcp-wait  --to ADDR --port P --seconds S [--timeout T]  probe until a
            connection succeeds; prints the wall-clock time it did
  tcp-rtt   --to ADDR --port P --count N          round trips of 1-byte echoes (ms)
Results are printed as one JSON object on stdout.
"""
import argparse
import json
import os
import select
import socket
import statistics
import sys
import time

PATTERN = bytes(range(256))


def family(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def payload(seq, size):
    body = (PATTERN * (size // 256 + 1))[:max(size - 8, 0)]
    return seq.to_bytes(8, 'big') + body


def ready(a):
    if a.ready:
        open(a.ready, 'w').close()


def udp_sink(a):
    s = socket.socket(family(a.bind), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind, a.port))
    ready(a)
    end = time.monotonic() + a.seconds
    got, damaged, seen, reordered, highest = 0, 0, set(), 0, -1
    while True:
        left = end - time.monotonic()
        if left <= 0 or (a.stop_file and os.path.exists(a.stop_file)):
            break
        r, _, _ = select.select([s], [], [], min(left, 0.1))
        if not r:
            continue
        data, _ = s.recvfrom(65536)
        got += 1
        seq = int.from_bytes(data[:8], 'big')
        if data != payload(seq, len(data)):
            damaged += 1
        seen.add(seq)
        if seq < highest:
            reordered += 1
        highest = max(highest, seq)
        if a.expect and len(seen) >= a.expect:
            break
    print(json.dumps({"received": got, "unique": len(seen), "damaged": damaged,
                      "reordered": reordered}))


def udp_send(a):
    s = socket.socket(family(a.to), socket.SOCK_DGRAM)
    if a.sport:
        s.bind(('::' if ':' in a.to else '0.0.0.0', a.sport))
    sent = 0
    for i in range(a.count):
        try:
            s.sendto(payload(i, a.size), (a.to, a.port))
            sent += 1
        except OSError:
            pass
        if a.gap_us:
            time.sleep(a.gap_us / 1e6)
    print(json.dumps({"sent": sent}))


def tcp_echo(a):
    srv = socket.socket(family(a.bind), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(64)
    ready(a)
    end = time.monotonic() + a.seconds
    conns = []
    while time.monotonic() < end:
        r, _, _ = select.select([srv] + conns, [], [], 0.2)
        for c in r:
            if c is srv:
                conn, _ = srv.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conns.append(conn)
                continue
            try:
                data = c.recv(65536)
            except OSError:
                data = b''
            if not data:
                conns.remove(c)
                c.close()
                continue
            try:
                c.sendall(data)
            except OSError:
                conns.remove(c)
                c.close()


def tcp_probe(a):
    try:
        c = socket.create_connection((a.to, a.port), timeout=a.timeout)
        c.settimeout(a.timeout)
        c.sendall(b'ping\n')
        ok = c.recv(16) == b'ping\n'
        c.close()
    except OSError as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return 1
    print(json.dumps({"ok": ok}))
    return 0 if ok else 1


def tcp_wait(a):
    # Probe until a connection gets through; print the wall-clock time of the
    # first success so the caller can measure against its own timestamps.
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        try:
            c = socket.create_connection((a.to, a.port), timeout=a.timeout)
            c.close()
            print(json.dumps({"ok": True, "at": time.time()}))
            return 0
        except OSError:
            time.sleep(0.01)
    print(json.dumps({"ok": False}))
    return 1


def tcp_rtt(a):
    c = socket.create_connection((a.to, a.port), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    for _ in range(a.count):
        t = time.monotonic()
        c.sendall(b'x')
        if c.recv(1) != b'x':
            break
        rtts.append((time.monotonic() - t) * 1000)
    c.close()
    print(json.dumps({"median_ms": statistics.median(rtts), "min_ms": min(rtts),
                      "max_ms": max(rtts), "stdev_ms": statistics.pstdev(rtts),
                      "n": len(rtts)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['udp-sink', 'udp-send', 'tcp-echo', 'tcp-probe', 'tcp-wait', 'tcp-rtt'])
    p.add_argument('--bind', default='0.0.0.0')
    p.add_argument('--to')
    p.add_argument('--port', type=int)
    p.add_argument('--sport', type=int, default=0)
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--expect', type=int, default=0)
    p.add_argument('--gap-us', type=int, default=0)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--timeout', type=float, default=1.0)
    p.add_argument('--ready')
    p.add_argument('--stop-file')
    a = p.parse_args()
    fn = {'udp-sink': udp_sink, 'udp-send': udp_send, 'tcp-echo': tcp_echo,
          'tcp-probe': tcp_probe, 'tcp-wait': tcp_wait, 'tcp-rtt': tcp_rtt}[a.mode]
    sys.exit(fn(a) or 0)


if __name__ == '__main__':
    main()
