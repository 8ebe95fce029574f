"""A minimal Maelstrom node for the harness's own tests: the deliberately bad nodes in this
folder import it and break one rule each. Python 3 standard library only."""

import json
import sys


class Node:
    def __init__(self):
        self.id = None
        self.ids = []
        self.next_msg_id = 0

    def write(self, line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def send(self, dest, body):
        self.write(json.dumps({"src": self.id, "dest": dest, "body": body}))

    def reply(self, request, body):
        body = dict(body)
        body["msg_id"] = self.next_msg_id
        self.next_msg_id += 1
        body["in_reply_to"] = request["body"].get("msg_id")
        self.send(request["src"], body)

    def handle(self, msg):
        """Answer init and echo; subclasses add more."""
        body = msg["body"]
        if body["type"] == "init":
            self.id = body["node_id"]
            self.ids = body["node_ids"]
            self.reply(msg, {"type": "init_ok"})
        elif body["type"] == "echo":
            self.reply(msg, {"type": "echo_ok", "echo": body["echo"]})
        elif body["type"] == "topology":
            self.reply(msg, {"type": "topology_ok"})

    def run(self):
        for line in sys.stdin:
            if line.strip():
                self.handle(json.loads(line))
