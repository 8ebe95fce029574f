#!/usr/bin/env python3
"""A correct echo node that is slow once: it answers its first echo request only after 6
seconds (longer than the client's 5 s timeout), then every request at once. The client gives up
on the first request; the reply that comes later is late, not a duplicate, and must be ignored
as Maelstrom ignores it."""
import time

from node import Node


class SlowOnce(Node):
    def __init__(self):
        super().__init__()
        self.slept = False

    def handle(self, msg):
        if msg["body"]["type"] == "echo" and not self.slept:
            self.slept = True
            time.sleep(6)
        super().handle(msg)


SlowOnce().run()
