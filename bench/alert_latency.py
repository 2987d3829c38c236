#!/usr/bin/env python3
"""Time from a target failing to the webhook notification arriving (and from recovering to
the resolution arriving), with the real daemon on loopback. The target and the webhook
receiver are small threaded HTTP servers in this script. Aim: interval x fail_after + 2 s.

    bench/alert_latency.py [--interval 1s] [--fail-after 2] [--cycles 5]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = {"healthy": True}
EVENTS = []
LOCK = threading.Lock()


class Target(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if STATE["healthy"] else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with LOCK:
            EVENTS.append((time.monotonic(), json.loads(body)["event"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(handler):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def wait_event(name, since, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with LOCK:
            for t, e in EVENTS:
                if e == name and t >= since:
                    return t - since
        time.sleep(0.01)
    raise SystemExit(f"no {name} within {timeout} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--fail-after", type=int, default=2)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--group-wait", default="0s",
                    help="the route's group_wait and group_interval; 0s measures detection and delivery alone")
    args = ap.parse_args()
    target, hook = serve(Target), serve(Hook)
    work = tempfile.mkdtemp(prefix="lookout-alert-bench-")
    listen = daemon_bench.free_port()
    config = os.path.join(work, "alert.toml")
    with open(config, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{listen}"
public_url = "http://127.0.0.1:{listen}"
[storage]
path = "{work}/alert.db"
[[monitor]]
name = "target"
type = "http"
url = "http://127.0.0.1:{target.server_port}/"
interval = "{args.interval}"
timeout = "{args.interval}"
fail_after = {args.fail_after}
recover_after = {args.fail_after}
flap.threshold = 100
[[channel]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{hook.server_port}/"
[[route]]
name = "all"
notify = ["hook"]
group_wait = "{args.group_wait}"
group_interval = "{args.group_wait}"
""")
    daemon = subprocess.Popen([os.path.join(ROOT, "build", "lookout"), "run", "-c", config, "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    interval_s = float(args.interval.rstrip("s"))
    try:
        time.sleep(interval_s * 2 + 1)
        opened, resolved = [], []
        for _ in range(args.cycles):
            t0 = time.monotonic()
            STATE["healthy"] = False
            opened.append(wait_event("incident.opened", t0))
            t1 = time.monotonic()
            STATE["healthy"] = True
            resolved.append(wait_event("incident.resolved", t1))
        aim = interval_s * args.fail_after + 2 + float(args.group_wait.rstrip("s"))
        print(f"{'interval':>8} {'fail_after':>10} {'cycles':>6} {'opened min/median/max s':>24} "
              f"{'resolved min/median/max s':>26} {'aim s':>6}")
        fmt = lambda v: f"{min(v):.2f}/{sorted(v)[len(v) // 2]:.2f}/{max(v):.2f}"
        print(f"{args.interval:>8} {args.fail_after:>10} {args.cycles:>6} {fmt(opened):>24} {fmt(resolved):>26} {aim:>6.1f}")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
