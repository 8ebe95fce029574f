#!/usr/bin/env python3
"""A broadcast node that keeps values only in memory and ignores its data directory.

Each node keeps the values broadcast to it, acknowledges them at once, and never copies them
anywhere. A read asks every other node for its values and answers with the union once all have
answered (error 11 if one does not answer within a second). Without crashes every read sees
every acknowledged value, so the node passes; a kill takes the killed nodes' values with them
for good: acknowledged values lost. Python 3 standard library only."""

import json
import select
import sys
import time

from node import Node

FETCH_TIMEOUT = 1.0


class MemoryOnly(Node):
    def __init__(self):
        super().__init__()
        self.values = []
        # read msg_id -> {"request", "answers": {peer: values}, "asked_at"}
        self.reads = {}
        self.next_fetch = 0

    def handle(self, msg):
        body = msg["body"]
        kind = body["type"]
        if kind == "broadcast":
            if body["message"] not in self.values:
                self.values.append(body["message"])
            self.reply(msg, {"type": "broadcast_ok"})
        elif kind == "read":
            peers = [p for p in self.ids if p != self.id]
            fetch = self.next_fetch
            self.next_fetch += 1
            self.reads[fetch] = {"request": msg, "answers": {}, "asked_at": time.time()}
            for peer in peers:
                self.send(peer, {"type": "fetch", "fetch": fetch})
            self.maybe_answer(fetch)
        elif kind == "fetch":
            self.send(msg["src"], {"type": "fetch_ok", "fetch": body["fetch"],
                                   "values": self.values})
        elif kind == "fetch_ok":
            read = self.reads.get(body["fetch"])
            if read is not None:
                read["answers"][msg["src"]] = body["values"]
                self.maybe_answer(body["fetch"])
        else:
            super().handle(msg)

    def maybe_answer(self, fetch):
        read = self.reads[fetch]
        if len(read["answers"]) < len(self.ids) - 1:
            return
        union = list(self.values)
        for values in read["answers"].values():
            union.extend(v for v in values if v not in union)
        self.reply(read["request"], {"type": "read_ok", "messages": union})
        del self.reads[fetch]

    def expire(self):
        now = time.time()
        for fetch in [f for f, r in self.reads.items() if now - r["asked_at"] > FETCH_TIMEOUT]:
            self.reply(self.reads.pop(fetch)["request"],
                       {"type": "error", "code": 11, "text": "a peer did not answer"})

    def run(self):
        buffer = b""
        while True:
            ready, _, _ = select.select([sys.stdin.buffer], [], [], 0.1)
            if ready:
                chunk = sys.stdin.buffer.read1(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))
            self.expire()


MemoryOnly().run()
