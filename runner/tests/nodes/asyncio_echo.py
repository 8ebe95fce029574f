#!/usr/bin/env python3
"""An echo and unique-ids node in the style of Python asyncio Maelstrom libraries: an asyncio
stdin reader, one task per request, message ids counted from 0, and ids made from the node id
and a counter. It knows nothing of this harness; it only follows the protocol."""

import asyncio
import json
import sys


class AsyncNode:
    def __init__(self):
        self.node_id = None
        self.msg_id = 0
        self.counter = 0
        self.tasks = set()

    def emit(self, dest, body):
        body["msg_id"] = self.msg_id
        self.msg_id += 1
        sys.stdout.write(json.dumps({"src": self.node_id, "dest": dest, "body": body}) + "\n")
        sys.stdout.flush()

    async def handle(self, msg):
        body = msg["body"]
        reply = {"in_reply_to": body["msg_id"]}
        if body["type"] == "init":
            self.node_id = body["node_id"]
            reply["type"] = "init_ok"
        elif body["type"] == "echo":
            await asyncio.sleep(0)
            reply.update(type="echo_ok", echo=body["echo"])
        elif body["type"] == "generate":
            reply.update(type="generate_ok", id=f"{self.node_id}-{self.counter}")
            self.counter += 1
        else:
            reply.update(type="error", code=10, text="not supported")
        self.emit(msg["src"], reply)

    async def main(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            task = asyncio.create_task(self.handle(json.loads(line)))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await asyncio.gather(*self.tasks)


asyncio.run(AsyncNode().main())
