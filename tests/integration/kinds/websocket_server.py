"""A real WebSocket server (Debian's python3-websockets) for the websocket kind's tests, one
behaviour per path:

  /echo        echoes every message
  /ping        answers "pong" to "ping", "what?" to anything else
  /hello       says "hello" as soon as the connection opens
  /silent      accepts and never sends
  /reject      refuses the handshake with 403
  /policy      closes at once with 1008 (policy violation)
  /pinger      pings the client, and after its pong says "ponged"
  /fragments   says "pong" in three fragments
  /headers     says "origin=<Origin> token=<X-Token>" of the handshake
  /flood       sends binary messages without end
  /report      says "hi", and once the client has gone prints "closed CODE" (the code of the
               client's close frame; 1006 when it sent none)

With --bad-accept PORT, a plain TCP server on that port answers every handshake with a 101
whose Sec-WebSocket-Accept is wrong.

  websocket_server.py PORT [--tls CERT KEY] [--bad-accept PORT]
"""
import argparse
import asyncio
import http
import signal
import ssl
import sys

import websockets


async def handler(ws, path):
    if path == "/echo":
        async for message in ws:
            await ws.send(message)
    elif path == "/ping":
        async for message in ws:
            await ws.send("pong" if message == "ping" else "what?")
    elif path == "/hello":
        await ws.send("hello")
        await ws.wait_closed()
    elif path == "/silent":
        await ws.wait_closed()
    elif path == "/policy":
        await ws.close(code=1008, reason="not allowed")
    elif path == "/pinger":
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        await ws.send("ponged")
        await ws.wait_closed()
    elif path == "/fragments":
        await ws.send(["po", "n", "g"])
        await ws.wait_closed()
    elif path == "/headers":
        h = ws.request_headers
        await ws.send(f"origin={h.get('Origin', '')} token={h.get('X-Token', '')}")
        await ws.wait_closed()
    elif path == "/flood":
        while True:
            await ws.send(b"x" * 1024)
    elif path == "/report":
        await ws.send("hi")
        await ws.wait_closed()
        print(f"closed {ws.close_code}", flush=True)


async def process_request(path, headers):
    if path == "/reject":
        return http.HTTPStatus.FORBIDDEN, [], b"forbidden\n"
    return None


async def bad_accept(reader, writer):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await reader.read(4096)
        if not chunk:
            writer.close()
            return
        head += chunk
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n")
    await writer.drain()
    await reader.read()
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--bad-accept", type=int)
    args = ap.parse_args()
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    servers = []
    if args.bad_accept:
        servers.append(await asyncio.start_server(bad_accept, "127.0.0.1", args.bad_accept))
    async with websockets.serve(handler, "127.0.0.1", args.port, ssl=context,
                                process_request=process_request):
        print("ready", flush=True)
        await stop
    for s in servers:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
