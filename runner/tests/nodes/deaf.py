#!/usr/bin/env python3
"""Answers init, sends about 1 MB to every other node, then never reads its input again: its
stdin pipe fills up and the harness holds the rest in its queue for the node."""
import json
import sys
import time

from node import Node

node = Node()
node.handle(json.loads(sys.stdin.readline()))
pad = "x" * 1000
for i in range(1000):
    for peer in node.ids:
        if peer != node.id:
            node.send(peer, {"type": "junk", "n": i, "pad": pad})
while True:
    time.sleep(3600)
