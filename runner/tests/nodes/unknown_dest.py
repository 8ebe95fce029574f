#!/usr/bin/env python3
"""Answers echo, and sends a message to a node that does not exist with every reply."""
from node import Node


class Lost(Node):
    def handle(self, msg):
        if msg["body"]["type"] == "echo":
            self.send("n99", {"type": "gossip"})
        super().handle(msg)


Lost().run()
