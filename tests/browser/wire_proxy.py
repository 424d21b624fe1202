#!/usr/bin/env python3
"""A recording TCP proxy on 127.0.0.1 for checking WebSocket traffic on the
wire: it forwards one connection to TARGET_PORT, and when that connection
ends prints one JSON line with the server's Sec-WebSocket-Extensions answer
and how many frames each side sent, and how many had RSV1 (compressed).

Usage: wire_proxy.py TARGET_PORT   (prints "PORT <n>" once listening)
"""
import asyncio
import json
import sys


def head_and_frames(data):
    """The HTTP head and [(rsv1, opcode, length)] of the frames after it."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return data.decode("latin-1"), []
    head, at, frames = data[:end].decode("latin-1"), end + 4, []
    while at + 2 <= len(data):
        b0, b1 = data[at], data[at + 1]
        length, at = b1 & 0x7F, at + 2
        if length == 126:
            length, at = int.from_bytes(data[at:at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(data[at:at + 8], "big"), at + 8
        if b1 & 0x80:
            at += 4
        frames.append((bool(b0 & 0x40), b0 & 0x0F, length))
        at += length
    return head, frames


def header(head, name):
    for line in head.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


async def main():
    target = int(sys.argv[1])
    done = asyncio.get_running_loop().create_future()
    sent = {"client": bytearray(), "server": bytearray()}

    async def pipe(reader, writer, log):
        try:
            while chunk := await reader.read(65536):
                log.extend(chunk)
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(client_r, client_w):
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pipe(client_r, server_w, sent["client"]), pipe(server_r, client_w, sent["server"]))
        if not done.done():
            done.set_result(None)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    await done
    report = {}
    for side in ("client", "server"):
        head, frames = head_and_frames(bytes(sent[side]))
        if side == "server":
            report["answer_extensions"] = header(head, "Sec-WebSocket-Extensions")
        report[side + "_frames"] = len(frames)
        report[side + "_rsv1_frames"] = sum(1 for f in frames if f[0])
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
