#!/usr/bin/env python3
"""A line server for the tcp kind's tests, plain or over TLS (Python's ssl module).

  line_server.py PORT MODE [CERT KEY]

MODE: pong   answers "+PONG" to a line "PING"; to any other "-ERR unknown command", then closes
      silent accepts and never answers
      flood  sends without end as soon as a client connects
It listens on 127.0.0.1:PORT and runs until killed.
"""
import asyncio
import ssl
import sys


async def pong(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            if line.rstrip(b"\r\n") == b"PING":
                writer.write(b"+PONG\r\n")
            else:
                writer.write(b"-ERR unknown command\r\n")
                await writer.drain()
                break
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def silent(reader, writer):
    try:
        while await reader.read(4096):
            pass
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def flood(reader, writer):
    chunk = b"y" * 16384
    try:
        while True:
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    context = None
    if len(sys.argv) > 4:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
    handler = {"pong": pong, "silent": silent, "flood": flood}[mode]
    server = await asyncio.start_server(handler, "127.0.0.1", port, ssl=context)
    async with server:
        await server.serve_forever()


asyncio.run(main())
