#!/usr/bin/env python3
"""A correct broadcast node in Python: durable, gossiping, and valid under partitions and kills.

Each value broadcast to it is appended to a file in its data directory (HARNESS_DATA_DIR) and
synced before it is acknowledged, so a killed node comes back with every value it acknowledged.
Every 100 ms it sends the values it holds to every other node (gossip of the whole set, so a
value lost to a partition or a crash is sent again until everyone has it). A read answers with
the values it holds. Python 3 standard library only; the harness's tests run it on several
hosts (`--hosts`) to show that any program speaking the protocol runs there unchanged."""

import json
import os
import sys
import threading
import time

from node import Node

GOSSIP_EVERY = 0.1


class DurableGossip(Node):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.values = set()
        data = os.environ.get("HARNESS_DATA_DIR", ".")
        self.path = os.path.join(data, "values")
        if os.path.exists(self.path):
            with open(self.path) as f:
                for line in f:
                    if line.strip():
                        self.values.add(json.loads(line))
        self.log = open(self.path, "a")

    def write(self, line):
        with self.lock:
            super().write(line)

    def keep(self, values):
        """Add `values`, durably; returns once they are on disk."""
        new = [v for v in values if v not in self.values]
        if new:
            for v in new:
                self.log.write(json.dumps(v) + "\n")
            self.log.flush()
            os.fsync(self.log.fileno())
            self.values.update(new)

    def handle(self, msg):
        body = msg["body"]
        kind = body["type"]
        if kind == "broadcast":
            self.keep([body["message"]])
            self.reply(msg, {"type": "broadcast_ok"})
        elif kind == "read":
            self.reply(msg, {"type": "read_ok", "messages": sorted(self.values)})
        elif kind == "gossip":
            self.keep(body["values"])
        elif kind == "init":
            super().handle(msg)
            threading.Thread(target=self.gossip, daemon=True).start()
        else:
            super().handle(msg)

    def gossip(self):
        while True:
            time.sleep(GOSSIP_EVERY)
            values = sorted(self.values)
            for peer in self.ids:
                if peer != self.id:
                    self.send(peer, {"type": "gossip", "values": values})


if __name__ == "__main__":
    DurableGossip().run()
