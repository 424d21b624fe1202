#!/usr/bin/env python3
"""Load generator: N concurrent Python `websockets` clients against the load
server, each sending numbered messages for a bounded time and checking that
every echo comes back, in order. Prints one JSON line with the totals and
exits non-zero if anything was lost or reordered.

Usage: load_client.py PORT [LINKS=1000] [SECONDS=5]
"""
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect


async def link(url, n, seconds, stats, opened):
    async with connect(url, ping_interval=None, open_timeout=60, close_timeout=30) as ws:
        opened.append(n)
        give_up = time.monotonic() + 60
        while len(opened) < stats["links"] and time.monotonic() < give_up:
            await asyncio.sleep(0.05)
        # The first link to get here starts the clock for everyone.
        deadline = stats.setdefault("deadline", time.monotonic() + seconds)
        seq = 0
        while time.monotonic() < deadline:
            for _ in range(4):
                await ws.send(f"{n}:{seq + _}")
            for _ in range(4):
                reply = await asyncio.wait_for(ws.recv(), 30)
                if reply != f"{n}:{seq}":
                    stats["bad"] += 1
                seq += 1
                stats["echoed"] += 1
            await ws.send(bytes([n % 256]) * 64)
            if await asyncio.wait_for(ws.recv(), 30) != bytes([n % 256]) * 64:
                stats["bad"] += 1
            stats["echoed"] += 1
            await asyncio.sleep(0.02)
        await ws.close(1000, "load done")
        stats["clean"] += 1


async def main():
    port = int(sys.argv[1])
    links = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    stats = {"links": links, "echoed": 0, "bad": 0, "clean": 0, "errors": 0}
    opened = []
    url = f"ws://127.0.0.1:{port}/load"
    start = time.monotonic()
    # Connect in waves so the listen backlog is not overrun.
    tasks = []
    for n in range(links):
        tasks.append(asyncio.create_task(link(url, n, seconds, stats, opened)))
        if n % 100 == 99:
            await asyncio.sleep(0.2)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    stats["errors"] = sum(1 for r in results if isinstance(r, Exception))
    stats["first_error"] = next((repr(r) for r in results if isinstance(r, Exception)), None)
    stats["opened"] = len(opened)
    stats["seconds"] = round(time.monotonic() - start, 1)
    stats.pop("deadline", None)
    print(json.dumps(stats), flush=True)
    ok = stats["bad"] == 0 and stats["errors"] == 0 and stats["clean"] == links and stats["echoed"] > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
