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
  send    --socket S --data-hex H [--repeat N] [--timeout T]
          send bytes (N times over), read until the connection closes or T passes; prints
          the reply lines and whether the agent closed the connection
  hostile --socket S    malformed and hostile requests, one connection each
  flood   --socket S --seconds T --cmd C --pid P [--max-growth-mb M]
          send requests without ever reading the replies; prints how much
          the agent's (pid P) resident memory grew, stopping at M MB
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
        s.sendall(bytes.fromhex(a.data_hex) * a.repeat)
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


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def flood(a):
    """Write requests, never read. Stops early once the agent grew by
    --max-growth-mb, so a test of a bound never takes the host down."""
    s = connect(a.socket)
    s.setblocking(False)
    req = ('{"v":1,"cmd":"%s"}\n' % a.cmd).encode() * 256
    base = peak = rss_kb(a.pid)
    sent, end, closed = 0, time.monotonic() + a.seconds, False
    while time.monotonic() < end:
        try:
            sent += s.send(req)
        except BlockingIOError:
            select.select([], [s], [], 0.05)
        except OSError:
            closed = True  # the agent gave up on us: fine
            break
        peak = max(peak, rss_kb(a.pid))
        if (peak - base) // 1024 >= a.max_growth_mb:
            break
    time.sleep(0.3)
    peak = max(peak, rss_kb(a.pid))
    print(json.dumps({'sent_bytes': sent, 'closed': closed,
                      'rss_growth_mb': round((peak - base) / 1024, 1)}))


# Requests no chaosctl would send. Each goes on its own connection, with
# its newline, and must get exactly one error reply.
HOSTILE = [
    ('deep array nesting', b'{"v":1,"cmd":"add","fault":' + b'[' * 20000 + b']' * 20000 + b'}'),
    ('deep object nesting', b'{"v":1,"cmd":"add","target":' + b'{"a":' * 10000 + b'1' +
     b'}' * 10000 + b'}'),
    ('huge version', b'{"v":1e999,"cmd":"ping"}'),
    ('huge integer version', b'{"v":123456789012345678901234567890,"cmd":"ping"}'),
    ('huge rule id', b'{"v":1,"cmd":"clear","id":1e400}'),
    ('huge duration', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},"duration_ms":1e30}'),
    ('huge percent', b'{"v":1,"cmd":"add","fault":{"kind":"loss","percent":1e308}}'),
    ('negative duration', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},"duration_ms":-1}'),
    ('NUL byte', b'{"v":1,"cmd":"ping"\x00}'),
    ('NUL byte in a string', b'{"v":1,"cmd":"pi\x00ng"}'),
    ('escaped NUL in netns', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},'
     b'"target":{"netns":"x\\u0000y"}}'),
    ('invalid UTF-8', b'{"v":1,"cmd":"\xff\xfe"}'),
    ('invalid UTF-8 in netns', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},'
     b'"target":{"netns":"\xc3\x28"}}'),
    ('lone surrogate', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},'
     b'"target":{"netns":"\\ud800"}}'),
    ('cmd not a string', b'{"v":1,"cmd":["add"]}'),
    ('version not a number', b'{"v":true,"cmd":"list"}'),
    ('fault not an object', b'{"v":1,"cmd":"add","fault":"drop"}'),
    ('id not a number', b'{"v":1,"cmd":"clear","id":"1"}'),
    ('ports not strings', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},"target":{"ports":[80]}}'),
    ('truncated', b'{"v":1,"cmd":"add","fault":{"kind":"drop"'),
    ('not JSON', b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary junk'),
    ('a JSON array', b'[{"v":1,"cmd":"ping"}]'),
    ('two objects', b'{"v":1,"cmd":"ping"}{"v":1,"cmd":"ping"}'),
    ('unknown command', b'{"v":1,"cmd":"rm -rf /"}'),
    ('wrong version', b'{"v":99,"cmd":"add","fault":{"kind":"drop"}}'),
    ('unknown field', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},"exec":"/bin/sh"}'),
    ('relative netns path', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},'
     b'"target":{"netns":"../../proc/1/ns/net"}}'),
    ('interface name with slash', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},'
     b'"target":{"ifaces":["../eth0"]}}'),
    ('port out of range', b'{"v":1,"cmd":"add","fault":{"kind":"drop"},'
     b'"target":{"ports":["65536"]}}'),
    ('a reply, not a request', b'{"v":1,"ok":true,"rules":[]}'),
]


def hostile(a):
    out = []
    for name, data in HOSTILE:
        s = connect(a.socket)
        try:
            s.sendall(data + b'\n')
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        buf = b''
        end = time.monotonic() + 5
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], 0.1)
            if r:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b''
                if not data:
                    break
                buf += data
        s.close()
        lines = [ln for ln in buf.split(b'\n') if ln]
        ok = None
        try:
            ok = [json.loads(ln)['ok'] for ln in lines]
        except (ValueError, KeyError):
            pass
        out.append({'name': name, 'replies': len(lines), 'ok': ok,
                    'first': lines[0].decode('utf-8', 'replace')[:160] if lines else ''})
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['hold', 'pings', 'send', 'flood', 'hostile'])
    p.add_argument('--socket', required=True)
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--ready')
    p.add_argument('--stop')
    p.add_argument('--partial', action='store_true')
    p.add_argument('--keepalive', type=float, default=0)
    p.add_argument('--data-hex')
    p.add_argument('--repeat', type=int, default=1)
    p.add_argument('--timeout', type=float, default=2.0)
    p.add_argument('--seconds', type=float, default=2.0)
    p.add_argument('--cmd', default='list')
    p.add_argument('--pid', type=int)
    p.add_argument('--max-growth-mb', type=int, default=256)
    a = p.parse_args()
    {'hold': hold, 'pings': pings, 'send': send, 'flood': flood,
     'hostile': hostile}[a.mode](a)


if __name__ == '__main__':
    main()
