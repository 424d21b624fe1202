#!/usr/bin/env python3
"""Burst: N Python `websockets` clients open at the same moment (no ramp, no
retry) against a RustWebSocketMultiplayerPeer server; each must get its peer
id (the server's first message: 4 bytes, little-endian, above 1) within
OPEN_SECONDS, stay until all have theirs, then leave. Prints one JSON line;
exits non-zero if any client failed.

Usage: burst_client.py PORT [CLIENTS=1000]
"""
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

OPEN_SECONDS = 20


async def client(url, ids, everyone):
    async with connect(url, ping_interval=None, open_timeout=OPEN_SECONDS, close_timeout=10) as ws:
        first = await asyncio.wait_for(ws.recv(), OPEN_SECONDS)
        peer_id = int.from_bytes(first, "little")
        if len(first) != 4 or peer_id < 2:
            raise RuntimeError(f"bad id message {first!r}")
        ids.add(peer_id)
        await asyncio.wait_for(everyone.wait(), OPEN_SECONDS * 2)


async def main():
    port = int(sys.argv[1])
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    url = f"ws://127.0.0.1:{port}/"
    ids = set()
    everyone = asyncio.Event()
    start = time.monotonic()
    tasks = [asyncio.create_task(client(url, ids, everyone)) for _ in range(clients)]
    while len(ids) < clients and not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    all_in = round(time.monotonic() - start, 1)
    everyone.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    print(json.dumps({"clients": clients, "ids": len(ids), "seconds_to_all_ids": all_in,
                      "errors": len(errors), "first_error": repr(errors[0]) if errors else None}), flush=True)
    sys.exit(0 if not errors and len(ids) == clients else 1)


if __name__ == "__main__":
    asyncio.run(main())
