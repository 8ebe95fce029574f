#!/usr/bin/env python3
"""Answers init, then floods stdout with messages to a client nobody is, forever."""
import json
import sys

from node import Node

node = Node()
for line in sys.stdin:
    msg = json.loads(line)
    node.handle(msg)
    if msg["body"]["type"] == "init":
        break
junk = json.dumps({"src": node.id, "dest": "c999999", "body": {"type": "echo_ok", "in_reply_to": 7}})
while True:
    sys.stdout.write((junk + "\n") * 1000)
    sys.stdout.flush()
