#!/usr/bin/env python3
"""A correct unique-ids node that shows its wall clock: each id is the node's id, a counter and
what time.time() read when the request came, so a test can see whether the harness's clock
faults reached the process (through libfaketime)."""
import time

from node import Node


class WallClockIds(Node):
    def __init__(self):
        super().__init__()
        self.count = 0

    def handle(self, msg):
        if msg["body"]["type"] == "generate":
            self.count += 1
            self.reply(
                msg,
                {"type": "generate_ok", "id": f"{self.id}-{self.count}-{time.time():.6f}"},
            )
        else:
            super().handle(msg)


WallClockIds().run()
