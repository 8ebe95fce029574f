#!/usr/bin/env python3
"""A node that answers init late and reads its input on while it waits, as nodes that handle
messages on threads do: n0 answers at once and greets every peer; the others answer init after
a second. A greeting that reaches a node before it has answered init is answered with a null
src (its id is not set yet), which the harness names as a malformed line. The protocol contract
says no traffic reaches a node before it is initialised, so that must never happen."""
import json
import sys
import threading
import time

from node import Node


class SlowInit(Node):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.ready_id = None

    def handle(self, msg):
        body = msg["body"]
        if body["type"] == "init":
            def answer():
                if body["node_id"] != "n0":
                    time.sleep(1.0)
                with self.lock:
                    self.id = body["node_id"]
                    self.ids = body["node_ids"]
                    self.ready_id = self.id
                    self.reply(msg, {"type": "init_ok"})
                    if self.id == "n0":
                        for peer in self.ids[1:]:
                            self.send(peer, {"type": "hello"})
            threading.Thread(target=answer).start()
        elif body["type"] == "hello":
            with self.lock:
                sys.stdout.write(json.dumps({"src": self.ready_id, "dest": msg["src"],
                                             "body": {"type": "hello_ok"}}) + "\n")
                sys.stdout.flush()
        else:
            with self.lock:
                super().handle(msg)


SlowInit().run()
