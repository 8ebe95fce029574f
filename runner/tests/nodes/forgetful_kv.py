#!/usr/bin/env python3
"""A lin-kv store that keeps its keys only in memory and ignores its data directory.

Run as a single node it is linearizable as long as it lives: one process applies every read,
write and cas in the order they come. A read or cas of a key it does not hold is answered with
error 20 (key-does-not-exist), as Maelstrom's own lin-kv does. A kill takes every key with it,
so after a restart it answers "key does not exist" for keys whose writes it had acknowledged:
a definite answer that contradicts those writes. Python 3 standard library only."""

from node import Node


class ForgetfulKv(Node):
    def __init__(self):
        super().__init__()
        self.store = {}

    def error(self, msg, code, text):
        self.reply(msg, {"type": "error", "code": code, "text": text})

    def handle(self, msg):
        body = msg["body"]
        kind = body["type"]
        key = str(body.get("key"))
        if kind == "read":
            if key in self.store:
                self.reply(msg, {"type": "read_ok", "value": self.store[key]})
            else:
                self.error(msg, 20, "key does not exist")
        elif kind == "write":
            self.store[key] = body["value"]
            self.reply(msg, {"type": "write_ok"})
        elif kind == "cas":
            if key not in self.store:
                self.error(msg, 20, "key does not exist")
            elif self.store[key] != body["from"]:
                self.error(msg, 22, "current value is not " + str(body["from"]))
            else:
                self.store[key] = body["to"]
                self.reply(msg, {"type": "cas_ok"})
        else:
            super().handle(msg)


ForgetfulKv().run()
