#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Traffic for netchaos' end-to-end tests: real sockets, bounded in count and
time, talking only to the addresses the test gives (its own namespaces).

  udp-sink  --bind ADDR --port P --seconds S [--stop-file F]  count datagrams,
            check payloads; stops early once F exists
  udp-send  --to ADDR --port P --count N [--gap-us U] [--size B] [--sport P]
  tcp-echo  --bind ADDR --port P --seconds S      echo server
  tcp-probe --to ADDR --port P [--timeout S]      connect + echo once; exit 0 if ok
  tcp-rtt   --to ADDR --port P --count N          median round trip of echoes (ms)
