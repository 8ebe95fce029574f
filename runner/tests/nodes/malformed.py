#!/usr/bin/env python3
"""Writes a line that is not JSON, and one without a dest, before every echo reply."""
from node import Node


class Malformed(Node):
    def handle(self, msg):
        if msg["body"]["type"] == "echo":
            self.write("this is {not json")
            self.write('{"src": "%s", "body": {"type": "echo_ok"}}' % self.id)
        super().handle(msg)


Malformed().run()
