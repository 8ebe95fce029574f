#!/usr/bin/env python3
"""An echo node that ignores end of input and SIGTERM, and keeps running until killed.

Usage: lingers.py DIR [--daemons]. At init it appends "node ID PID START" to DIR/pids (START:
its start time in /proc, so a pid reused later is not mistaken for it). With --daemons it also
starts three sleepers that leave its process group (setsid), each appended as
"daemon ID PID START KIND":
  child     a child of the node, in a session of its own;
  orphan    the same, started through a shell that exits at once, so it is re-parented;
  stray     an orphan too, with an empty environment (it does not carry the node's tag).
A restarted node first appends "survivor ID PID" for each child or orphan of an earlier
incarnation of itself that is still alive: killing a node must have killed those."""
import os
import signal
import subprocess
import sys
import time

from node import Node

DIR = sys.argv[1]
DAEMONS = "--daemons" in sys.argv[2:]
PIDS = os.path.join(DIR, "pids")


def start_time(pid):
    """The process's start time, or None once it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def append(line):
    with open(PIDS, "a") as f:
        f.write(line + "\n")


def sleeper(kind):
    """Start a sleeper of `kind`; returns its pid."""
    if kind == "child":
        return subprocess.Popen(
            ["sleep", "600"], start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    env = None if kind == "orphan" else {}
    out = subprocess.run(
        ["/bin/sh", "-c", "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!"],
        env=env, capture_output=True, text=True, check=True).stdout
    return int(out.strip())


class Lingers(Node):
    def handle(self, msg):
        super().handle(msg)
        if msg["body"]["type"] != "init":
            return
        if os.path.exists(PIDS):
            with open(PIDS) as f:
                for line in f.read().splitlines():
                    words = line.split()
                    if (words[0] == "daemon" and words[1] == self.id and words[4] != "stray"
                            and start_time(words[2]) == words[3]):
                        append(f"survivor {self.id} {words[2]}")
        append(f"node {self.id} {os.getpid()} {start_time(os.getpid())}")
        if DAEMONS:
            for kind in ("child", "orphan", "stray"):
                pid = sleeper(kind)
                append(f"daemon {self.id} {pid} {start_time(pid)} {kind}")


signal.signal(signal.SIGTERM, signal.SIG_IGN)
Lingers().run()
while True:
    time.sleep(3600)
