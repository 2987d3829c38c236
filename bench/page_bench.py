#!/usr/bin/env python3
"""The status page's throughput: `lookout run` with --monitors heartbeat monitors (public, so
the page and the status JSON list them all; heartbeats probe nothing, so the daemon's CPU goes
to the web server), then wrk over --connections keep-alive connections against GET / and
GET /api/v1/status, --seconds each, --runs times in turn. Prints requests/s, latency p50/p99
and the daemon's CPU per request (user + system, from /proc/PID/stat: steadier than requests/s
on a machine shared with other work) of each run, and the medians per path. Loopback only.

Give --binary to compare builds (for instance one without the accept gate against one with
it): the same config, the same load. --tls serves HTTPS with a certificate made for the run
(ECDSA P-256, as a public CA would issue today); wrk's connections are kept alive, so this
measures the encrypted answers, not handshakes.

Needs wrk (`apt-get install wrk`). Benchmarks stay out of CI.

    bench/page_bench.py [--binary build/lookout] [--connections 32] [--seconds 10]
                        [--runs 3] [--monitors 50] [--threads 1] [--tls]
"""
import argparse
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def write_config(work, port, monitors, tls):
    path = os.path.join(work, "page.toml")
    with open(path, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{port}"\ntitle = "page bench"\n')
        if tls:
            cert, key = make_certificate(work)
            f.write(f'tls_cert = "{cert}"\ntls_key = "{key}"\n')
        f.write("\n")
        f.write(f'[storage]\npath = "{work}/page.db"\n\n')
        for i in range(monitors):
            f.write(f'[[monitor]]\nname = "job-{i:03d}"\ntype = "heartbeat"\npublic = true\n'
                    f'group = "group-{i % 5}"\nperiod = "1h"\ngrace = "1h"\n\n')
    return path


def wait_healthy(base, proc):
    deadline = time.time() + 20
    unverified = ssl._create_unverified_context()
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"lookout exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1, context=unverified) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("lookout did not answer /healthz")


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_wrk(base, path, args):
    out = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
         f"{base}{path}"],
        check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    lat = {q: to_ms(*re.search(rf"\s{q}%\s+([0-9.]+)(us|ms|s)\b", out).groups())
           for q in ("50", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return rps, lat["50"], lat["99"], (errors.group(1) if errors else "0"), \
        (sock.group(1) if sock else "none")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "lookout"))
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--monitors", type=int, default=50)
    p.add_argument("--tls", action="store_true", help="serve and measure HTTPS")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk: apt-get install wrk")

    work = tempfile.mkdtemp(prefix="page-bench-")
    port = free_port()
    config = write_config(work, port, args.monitors, args.tls)
    base = f"{'https' if args.tls else 'http'}://127.0.0.1:{port}"
    log = open(os.path.join(work, "lookout.log"), "w")
    proc = subprocess.Popen([args.binary, "run", "-c", config], stdout=log, stderr=log)
    try:
        wait_healthy(base, proc)
        time.sleep(1)  # the first snapshot with every monitor
        results = {"/": [], "/api/v1/status": []}
        for run in range(args.runs):
            for path in results:
                cpu0 = cpu_seconds(proc.pid)
                rps, p50, p99, non2xx, sock = run_wrk(base, path, args)
                us = (cpu_seconds(proc.pid) - cpu0) * 1e6 / (rps * args.seconds)
                results[path].append((rps, us))
                print(f"run {run + 1} {path:16} {rps:10.0f} req/s  p50 {p50:6.2f} ms  "
                      f"p99 {p99:6.2f} ms  {us:5.1f} us CPU/request  non-2xx {non2xx}  "
                      f"socket errors {sock}", flush=True)
        for path, figures in results.items():
            print(f"median {path:16} {statistics.median(f[0] for f in figures):10.0f} req/s  "
                  f"{statistics.median(f[1] for f in figures):5.1f} us CPU/request")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
