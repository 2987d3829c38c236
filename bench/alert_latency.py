#!/usr/bin/env python3
"""Time from a target failing to the webhook notification arriving (and from recovering to
the resolution arriving), with the real daemon on loopback, and the part of it after the state
change: from the incident's started_at (resolved_at) to the webhook's arrival, which is what
grouping adds. The target and the webhook receiver are small threaded HTTP servers in this
script. Aim: interval x fail_after + 2 s; under 1 s after the state change for a lone incident.

    bench/alert_latency.py [--interval 1s] [--fail-after 2] [--cycles 5] [--monitors 1]
                           [--group-wait 30s] [--group-mode leading|alertmanager]

Without --group-wait the route keeps lookout's defaults. With --monitors N > 1 every monitor
probes the same target, so each cycle is an alert storm of N incidents.
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
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = {"healthy": True}
EVENTS = []  # (arrival, event, seconds after the state change)
MESSAGES = []  # arrival of each webhook call
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
        now_wall, now = time.time(), time.monotonic()
        j = json.loads(body)
        with LOCK:
            MESSAGES.append(now)
            for e in j["events"] if j["event"] == "group" else [j]:
                inc = e["incident"]
                changed = inc["resolved_at"] if e["event"] == "incident.resolved" else inc["started_at"]
                EVENTS.append((now, e["event"], now_wall - unix_s(changed)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def unix_s(rfc3339):
    return datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def serve(handler):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def wait_events(name, since, count, timeout=120):
    """Waits for `count` events `name` that arrived after `since`; returns (seconds until the
    last arrived, the seconds after the state change of each, webhook calls they took)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with LOCK:
            got = [(t, d) for t, e, d in EVENTS if e == name and t >= since]
            calls = len([t for t in MESSAGES if t >= since])
        if len(got) >= count:
            return max(t for t, _ in got) - since, [d for _, d in got], calls
        time.sleep(0.01)
    raise SystemExit(f"only {len(got)} of {count} {name} within {timeout} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--fail-after", type=int, default=2)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--monitors", type=int, default=1)
    ap.add_argument("--group-wait", default=None, help="the route's group_wait (and group_interval); default: lookout's")
    ap.add_argument("--group-mode", default="leading")
    args = ap.parse_args()
    target, hook = serve(Target), serve(Hook)
    work = tempfile.mkdtemp(prefix="lookout-alert-bench-")
    listen = daemon_bench.free_port()
    config = os.path.join(work, "alert.toml")
    monitors = "".join(f"""[[monitor]]
name = "target-{i:04}"
type = "http"
url = "http://127.0.0.1:{target.server_port}/"
interval = "{args.interval}"
timeout = "{args.interval}"
fail_after = {args.fail_after}
recover_after = {args.fail_after}
flap.threshold = 100
""" for i in range(args.monitors))
    grouping = "" if args.group_wait is None else f'group_wait = "{args.group_wait}"\ngroup_interval = "{args.group_wait}"\n'
    with open(config, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{listen}"
public_url = "http://127.0.0.1:{listen}"
[storage]
path = "{work}/alert.db"
{monitors}[[channel]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{hook.server_port}/"
[[route]]
name = "all"
notify = ["hook"]
group_mode = "{args.group_mode}"
{grouping}""")
    daemon = subprocess.Popen([os.path.join(ROOT, "build", "lookout"), "run", "-c", config, "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    interval_s = float(args.interval.rstrip("s"))
    try:
        time.sleep(interval_s * 2 + 1)
        rows = []
        for _ in range(args.cycles):
            t0 = time.monotonic()
            STATE["healthy"] = False
            opened = wait_events("incident.opened", t0, args.monitors)
            t1 = time.monotonic()
            STATE["healthy"] = True
            resolved = wait_events("incident.resolved", t1, args.monitors)
            rows.append((opened, resolved))
        mmm = lambda v: f"{min(v):.2f}/{sorted(v)[len(v) // 2]:.2f}/{max(v):.2f}"
        print(f"{args.monitors} monitor(s), interval {args.interval}, fail_after {args.fail_after}, "
              f"group_mode {args.group_mode}, group_wait {args.group_wait or 'default'}; seconds min/median/max")
        for name, i in (("opened", 0), ("resolved", 1)):
            last = [r[i][0] for r in rows]
            after = [d for r in rows for d in r[i][1]]
            calls = [r[i][2] for r in rows]
            print(f"  {name:>8}: all arrived after {mmm(last)}; each after its state change {mmm(after)}; "
                  f"webhook calls per cycle {mmm(calls).replace('.00', '')}")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
