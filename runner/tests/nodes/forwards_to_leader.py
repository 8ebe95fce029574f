#!/usr/bin/env python3
"""A lin-kv store on one leader, the smallest node id; the other nodes forward each client
request to it unchanged, with the client's src, as Maelstrom's raft demo proxies requests, so
the leader's reply goes straight to the client. One copy of the data: linearizable.

With --ghost, each forwarding node also sends the leader one message whose src names nothing
in the network. With --to-service, every node forwards each client request to the harness's
lin-kv service instead, which answers the client. Python 3 standard library only."""

import json
import sys

from node import Node


class Proxy(Node):
    def __init__(self, ghost, to_service):
        super().__init__()
        self.ghost = ghost
        self.to_service = to_service
        self.store = {}

    def error(self, msg, code, text):
        self.reply(msg, {"type": "error", "code": code, "text": text})

    def handle(self, msg):
        body = msg["body"]
        kind = body.get("type")
        if kind in ("init", "topology"):
            super().handle(msg)
            return
        if self.to_service and msg["src"].startswith("c"):
            self.write(json.dumps({"src": msg["src"], "dest": "lin-kv", "body": body}))
            return
        leader = min(self.ids)
        if self.id != leader and msg["src"].startswith("c"):
            if self.ghost:
                self.ghost = False
                self.write(json.dumps({"src": "ghost", "dest": leader, "body": {"type": "gossip"}}))
            self.write(json.dumps({"src": msg["src"], "dest": leader, "body": body}))
            return
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
        elif kind == "echo":
            super().handle(msg)


Proxy("--ghost" in sys.argv[1:], "--to-service" in sys.argv[1:]).run()
