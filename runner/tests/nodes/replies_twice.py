#!/usr/bin/env python3
"""Answers every echo twice."""
from node import Node


class Twice(Node):
    def handle(self, msg):
        super().handle(msg)
        if msg["body"]["type"] == "echo":
            super().handle(msg)


Twice().run()
