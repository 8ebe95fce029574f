#!/usr/bin/env python3
"""A broken broadcast node: it floods each new value to its neighbours once, with no
retries, and never sends anything to the last node. Values broadcast elsewhere never reach it
(lost: its final read is the last one invoked, so no later read has them)."""
from node import Node


class Lossy(Node):
    def __init__(self):
        super().__init__()
        self.values = []
        self.neighbours = []

    def handle(self, msg):
        body = msg["body"]
        kind = body["type"]
        if kind == "topology":
            self.neighbours = body["topology"].get(self.id, [])
            self.reply(msg, {"type": "topology_ok"})
        elif kind == "broadcast" or kind == "gossip":
            value = body["message"]
            if value not in self.values:
                self.values.append(value)
                for peer in self.ids:
                    if peer not in (self.id, self.ids[-1], msg["src"]):
                        self.send(peer, {"type": "gossip", "message": value})
            if kind == "broadcast":
                self.reply(msg, {"type": "broadcast_ok"})
        elif kind == "read":
            self.reply(msg, {"type": "read_ok", "messages": self.values})
        else:
            super().handle(msg)


Lossy().run()
