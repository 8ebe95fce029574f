#!/usr/bin/env python3
"""Reads everything and never answers, not even init."""
import sys

for line in sys.stdin:
    pass
