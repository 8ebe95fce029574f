#!/usr/bin/env python3
"""Answers echo, then exits with status 1 after its third echo."""
import sys

from node import Node


class Quitter(Node):
    echoes = 0

    def handle(self, msg):
        super().handle(msg)
        if msg["body"]["type"] == "echo":
            self.echoes += 1
            if self.echoes == 3:
                sys.exit(1)


Quitter().run()
