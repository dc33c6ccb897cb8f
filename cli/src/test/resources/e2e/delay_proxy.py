#!/usr/bin/python3
"""A slow link for one network namespace: nft redirects the namespace's outgoing TCP connections to
the other nodes to this proxy, which finds where each was going (SO_ORIGINAL_DST), connects there
from SOURCE (an address nft does not redirect), and holds every chunk DELAY_MS in each direction
before passing it on. Chunks keep their order and don't wait for each other: a fixed latency, no
bandwidth limit. This kernel has no netem.

usage: delay_proxy.py PORT SOURCE DELAY_MS   (listens on 127.0.0.1:PORT; prints READY when it does)
"""
import asyncio
import socket
import struct
import sys

SO_ORIGINAL_DST = 80


def original_destination(sock):
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    (port,) = struct.unpack_from("!H", raw, 2)
    return socket.inet_ntoa(raw[4:8]), port


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def take():
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                return

    async def give():
        while True:
            due, data = await queue.get()
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(take(), give())


async def serve(source, delay, client_reader, client_writer):
    server_writer = None
    try:
        host, port = original_destination(client_writer.get_extra_info("socket"))
        server_reader, server_writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        await asyncio.gather(pipe(client_reader, server_writer, delay), pipe(server_reader, client_writer, delay))
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        for w in (client_writer, server_writer):
            if w is not None:
                w.close()


async def main():
    port, source, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) / 1000
    server = await asyncio.start_server(lambda r, w: serve(source, delay, r, w), "127.0.0.1", port)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
