#!/usr/bin/env python3
"""Answers init, then never reads stdin again."""
import json
import sys
import time

from node import Node

node = Node()
node.handle(json.loads(sys.stdin.readline()))
while True:
    time.sleep(3600)
