#!/usr/bin/env python3
"""Load generator: N concurrent Python `websockets` clients against the load
server, each sending numbered messages for a bounded time and checking that
every echo comes back, in order. Prints one JSON line with the totals and
exits non-zero if anything was lost or reordered, or a link never opened.

The server behind Godot's TCPServer has a listen backlog of 8, so clients
open the way real ones do under load: a limited number of opening
handshakes at a time (a ramp), and a failed attempt is retried with
backoff. Every link must still be open at the same time before the clock
starts, and every message must come back.

Usage: load_client.py PORT [LINKS=1000] [SECONDS=5]
"""
import asyncio
import json
import random
import sys
import time

from websockets.asyncio.client import connect

OPENING_AT_ONCE = 16
ATTEMPTS = 8


async def open_link(url, stats, opening):
    """Opens one link, retrying failed attempts with backoff."""
    delay = 0.2
    for attempt in range(ATTEMPTS):
        async with opening:
            try:
                return await connect(url, ping_interval=None, open_timeout=10, close_timeout=30)
            except Exception as e:  # refused, reset, timed out, bad answer: retry
                if attempt == ATTEMPTS - 1:
                    raise
                stats["retries"] += 1
                stats["last_retry_reason"] = repr(e)
        await asyncio.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 5.0)


async def link(url, n, seconds, stats, opened, opening):
    ws = await open_link(url, stats, opening)
    async with ws:
        opened.append(n)
        give_up = time.monotonic() + 120
        while len(opened) < stats["links"] and time.monotonic() < give_up:
            await asyncio.sleep(0.05)
        if len(opened) < stats["links"]:
            raise RuntimeError("not every link opened within 120 s")
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
    stats = {"links": links, "echoed": 0, "bad": 0, "clean": 0, "errors": 0, "retries": 0}
    opened = []
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    url = f"ws://127.0.0.1:{port}/load"
    start = time.monotonic()
    tasks = [asyncio.create_task(link(url, n, seconds, stats, opened, opening)) for n in range(links)]
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
