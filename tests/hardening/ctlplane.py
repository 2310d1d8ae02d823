#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Control-socket clients for test_control_plane.sh: many connections at
once, partial and hostile requests, clients that never read. Talks only to
the Unix socket it is given. Results are one JSON object on stdout.

  hold    --socket S --count N --ready F --stop F [--partial] [--keepalive S]
          open N connections and hold them until F exists; --partial sends
          half a request on each; --keepalive sends one blank every S seconds
          so the agent's idle timeout does not close them (no request is
          ever completed). Prints how many were open at the end.
  pings   --socket S --count N      N concurrent clients, one ping each
  send    --socket S --data-hex H [--timeout T]
          send bytes, read until the connection closes or T passes; prints
          the reply lines and whether the agent closed the connection
  flood   --socket S --seconds T --cmd C
          send requests without ever reading the replies
"""
import argparse
import json
import os
import select
import socket
import time


def connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def hold(a):
    conns, failed = [], 0
    for _ in range(a.count):
        try:
            s = connect(a.socket)
            if a.partial:
                s.sendall(b'{"v":1,"cmd":"pi')
            conns.append(s)
        except OSError:
            failed += 1
    with open(a.ready, 'w') as f:
        f.write(str(len(conns)))
    last = time.monotonic()
    closed = set()
    while not os.path.exists(a.stop):
        # A readable idle connection means the agent closed (or answered) it.
        r, _, _ = select.select([c for c in conns if c.fileno() not in closed], [], [], 0.2)
        for c in r:
            try:
                data = c.recv(4096)
            except OSError:
                data = b''
            if not data:
                closed.add(c.fileno())
        if a.keepalive and time.monotonic() - last >= a.keepalive:
            last = time.monotonic()
            for c in conns:
                if c.fileno() not in closed:
                    try:
                        c.sendall(b' ')
                    except OSError:
                        closed.add(c.fileno())
    print(json.dumps({'opened': len(conns), 'failed': failed,
                      'open_at_end': len(conns) - len(closed)}))


def pings(a):
    req = b'{"v":1,"cmd":"ping"}\n'
    conns, start = [], time.monotonic()
    for _ in range(a.count):
        s = connect(a.socket)
        s.setblocking(False)
        conns.append(s)
    for s in conns:
        s.sendall(req)
    pending = {s: b'' for s in conns}
    answered, good, lat = 0, 0, []
    end = time.monotonic() + 10
    while pending and time.monotonic() < end:
        r, _, _ = select.select(list(pending), [], [], 0.5)
        for s in r:
            data = s.recv(4096)
            buf = pending[s] + data
            if b'\n' in buf or not data:
                del pending[s]
                answered += 1
                lat.append((time.monotonic() - start) * 1000)
                try:
                    good += json.loads(buf.split(b'\n')[0]).get('ok') is True
                except ValueError:
                    pass
                s.close()
            else:
                pending[s] = buf
    lat.sort()
    print(json.dumps({'clients': a.count, 'answered': answered, 'ok': good,
                      'max_ms': round(lat[-1], 1) if lat else None,
                      'median_ms': round(lat[len(lat) // 2], 1) if lat else None}))


def send(a):
    s = connect(a.socket)
    try:
        s.sendall(bytes.fromhex(a.data_hex))
    except OSError as e:
        # The agent may close a connection before it read everything.
        print(json.dumps({'replies': [], 'closed': True, 'send_error': str(e)}))
        return
    buf, closed = b'', False
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b''
        if not data:
            closed = True
            break
        buf += data
    lines = [ln.decode('utf-8', 'replace') for ln in buf.split(b'\n') if ln]
    print(json.dumps({'replies': lines, 'closed': closed}))


def flood(a):
    s = connect(a.socket)
    s.setblocking(False)
    req = ('{"v":1,"cmd":"%s"}\n' % a.cmd).encode() * 256
    sent, end = 0, time.monotonic() + a.seconds
    while time.monotonic() < end:
        try:
            sent += s.send(req)
        except BlockingIOError:
            select.select([], [s], [], 0.05)
        except OSError:
            break  # the agent gave up on us: fine
    print(json.dumps({'sent_bytes': sent}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['hold', 'pings', 'send', 'flood'])
    p.add_argument('--socket', required=True)
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--ready')
    p.add_argument('--stop')
    p.add_argument('--partial', action='store_true')
    p.add_argument('--keepalive', type=float, default=0)
    p.add_argument('--data-hex')
    p.add_argument('--timeout', type=float, default=2.0)
    p.add_argument('--seconds', type=float, default=2.0)
    p.add_argument('--cmd', default='list')
    a = p.parse_args()
    {'hold': hold, 'pings': pings, 'send': send, 'flood': flood}[a.mode](a)


if __name__ == '__main__':
    main()
