#!/usr/bin/env python3
"""Answers echo, and with its first echo sends its peer messages that Maelstrom routes without
a word: a body with no type, one whose msg_id is a string, and one nested 500 deep (Maelstrom's
JSON parser takes up to 1000 levels). With --too-deep it also writes a line nested 100,000
deep, which Maelstrom's parser refuses. It skips whatever it cannot read or has no type."""
import json
import sys

from node import Node


def nested(depth):
    return "[" * depth + "]" * depth


class OddBodies(Node):
    def __init__(self, too_deep):
        super().__init__()
        self.too_deep = too_deep
        self.sent = False

    def raw(self, dest, body):
        self.write('{"src": %s, "dest": %s, "body": %s}' % (json.dumps(self.id), json.dumps(dest), body))

    def handle(self, msg):
        body = msg["body"]
        if not isinstance(body.get("type"), str):
            return
        if body["type"] == "echo" and not self.sent and len(self.ids) > 1:
            self.sent = True
            peer = next(n for n in self.ids if n != self.id)
            self.send(peer, {"note": "a body with no type"})
            self.send(peer, {"type": "gossip", "msg_id": "seven"})
            self.raw(peer, '{"type": "gossip", "v": %s}' % nested(500))
            if self.too_deep:
                self.raw(peer, '{"type": "gossip", "v": %s}' % nested(100_000))
        super().handle(msg)

    def run(self):
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except (ValueError, RecursionError):
                continue
            self.handle(msg)


OddBodies("--too-deep" in sys.argv[1:]).run()
