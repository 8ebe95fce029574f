#!/usr/bin/env python3
"""A correct echo node whose own msg_ids start at 0, so its first reply has msg_id 0 and
answers a request whose msg_id is 0: the harness must treat 0 as an ordinary id."""
from node import Node

Node().run()
