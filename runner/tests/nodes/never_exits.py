#!/usr/bin/env python3
"""A correct echo node that ignores end of input and SIGTERM and keeps running."""
import signal
import time

from node import Node

signal.signal(signal.SIGTERM, signal.SIG_IGN)
Node().run()
while True:
    time.sleep(3600)
