"""A real gRPC server (grpcio) with grpc.health.v1.Health/Check, for the grpc kind's tests.

The health service is written with grpcio's generic handlers and hand-written serializers of
its two one-field messages, as grpcio-health-checking is not packaged for Debian. It answers
as the reference implementation does: a known service's status, NOT_FOUND for an unknown one.

  grpc_health_server.py PORT [--tls CERT KEY] [--serving NAME]... [--not-serving NAME]...
                             [--no-health]
"""
import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc

SERVING, NOT_SERVING = 1, 2


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def parse_request(data):
    """HealthCheckRequest { string service = 1; } -> the service name."""
    service, pos = "", 0
    while pos < len(data):
        tag, pos = read_varint(data, pos)
        wire = tag & 7
        if wire == 0:
            _, pos = read_varint(data, pos)
        elif wire == 2:
            length, pos = read_varint(data, pos)
            if tag >> 3 == 1:
                service = data[pos:pos + length].decode()
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError("unsupported wire type")
    return service


def serialize_response(status):
    """HealthCheckResponse { ServingStatus status = 1; } (proto3 omits 0)."""
    return b"" if status == 0 else bytes([0x08, status])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--serving", action="append", default=[])
    ap.add_argument("--not-serving", action="append", default=[])
    ap.add_argument("--no-health", action="store_true")
    args = ap.parse_args()

    statuses = {"": SERVING}
    statuses.update({name: SERVING for name in args.serving})
    statuses.update({name: NOT_SERVING for name in args.not_serving})

    def check(service, context):
        if service not in statuses:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return statuses[service]

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    if not args.no_health:
        handler = grpc.unary_unary_rpc_method_handler(
            check, request_deserializer=parse_request, response_serializer=serialize_response)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": handler}),))
    address = f"127.0.0.1:{args.port}"
    if args.tls:
        with open(args.tls[0], "rb") as f:
            cert = f.read()
        with open(args.tls[1], "rb") as f:
            key = f.read()
        server.add_secure_port(address, grpc.ssl_server_credentials([(key, cert)]))
    else:
        server.add_insecure_port(address)
    server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
