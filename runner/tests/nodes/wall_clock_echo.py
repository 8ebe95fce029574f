#!/usr/bin/env python3
"""An echo node that logs, for every echo it answers, what its wall clock (time.time()) read:
`wall <client> <msg_id> <seconds since the epoch>` on stderr. The clock fault tests compare it
with the harness's own times to see that a bent clock reached the process."""

import sys
import time

from node import Node


class WallClockEcho(Node):
    def handle(self, msg):
        body = msg["body"]
        if body["type"] == "echo":
            sys.stderr.write(f"wall {msg['src']} {body.get('msg_id')} {time.time():.6f}\n")
            sys.stderr.flush()
        super().handle(msg)


if __name__ == "__main__":
    WallClockEcho().run()
