#!/usr/bin/python3
"""A public post to N confirmed status-page subscribers, with the real daemon and a real SMTP
server (aiosmtpd, in this script) on loopback, while monitors run and one of them fails:

- how long the post's API call takes (the loop makes N outbox rows, storage commits them);
- the scheduler's lag p50/p99/max over the fan-out (does the loop stall?);
- when the on-call mail of an incident opened during the fan-out arrives (after its started_at), through the same
  email channel (does subscriber mail hold it back?), against a run without subscribers;
- how long until all N subscriber mails arrived, and the daemon's CPU seconds for them.

Subscribers are written into the daemon's SQLite file before it starts (as confirmed rows),
since the double opt-in of 10,000 addresses is not what is measured.

    bench/subscribers_bench.py [--subscribers 0 10000] [--monitors 200]

(Debian's python3-aiosmtpd: run it with /usr/bin/python3.)
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "bench-admin-token-0123456789abcdef"
STATE = {"healthy": True}


class Target(BaseHTTPRequestHandler):
    def do_GET(self):
        ok = STATE["healthy"] or not self.path.startswith("/failing")
        self.send_response(200 if ok else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Inbox:
    """An SMTP handler that keeps when each mail arrived and for whom."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []  # (monotonic arrival, recipients, subject, wall-clock arrival)

    async def handle_DATA(self, server, session, envelope):
        subject = ""
        for line in envelope.content.decode("utf-8", "replace").split("\r\n"):
            if line.startswith("Subject: "):
                subject = line[9:]
                break
        with self.lock:
            self.mails.append((time.monotonic(), list(envelope.rcpt_tos), subject, time.time()))
        return "250 OK"

    def count(self, pred):
        with self.lock:
            return [m for m in self.mails if pred(m)]


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")


def admin_post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def admin_get(port, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def run(subscribers, monitors, target_port):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=daemon_bench.free_port())
    smtp.start()
    work = tempfile.mkdtemp(prefix="lookout-subscribers-bench-")
    listen = daemon_bench.free_port()
    config = os.path.join(work, "bench.toml")
    db = os.path.join(work, "bench.db")
    many = "".join(f"""[[monitor]]
name = "site-{i:04}"
type = "http"
public = true
url = "http://127.0.0.1:{target_port}/ok/{i}"
interval = "1s"
timeout = "1s"
""" for i in range(monitors))
    with open(config, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{listen}"
public_url = "http://127.0.0.1:{listen}"
admin_token = "{ADMIN}"
[storage]
path = "{db}"
{many}
[[monitor]]
name = "billing-db"
type = "http"
url = "http://127.0.0.1:{target_port}/failing"
interval = "1s"
timeout = "1s"
fail_after = 1
[[channel]]
name = "mail"
type = "email"
smtp_url = "smtp://127.0.0.1:{smtp.port}"
starttls = "off"
from = "status@bench.example"
to = ["oncall@bench.example"]
[[route]]
name = "oncall"
match = {{ name = "billing-db" }}
notify = ["mail"]
group_wait = "0s"
group_interval = "0s"
[subscriptions]
channel = "mail"
""")
    binary = os.path.join(ROOT, "build", "lookout")
    # A first start makes the schema; the subscribers are then written in as confirmed rows.
    daemon = subprocess.Popen([binary, "run", "-c", config, "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(lambda: _up(listen), 30, "the daemon")
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(30)
    con = sqlite3.connect(db)
    now_ms = int(time.time() * 1000)
    con.executemany("INSERT INTO subscribers (email, created_ms, confirmed_ms) VALUES (?, ?, ?)",
                    [(f"reader{i:05}@bench.example", now_ms, now_ms) for i in range(subscribers)])
    con.commit()
    con.close()

    daemon = subprocess.Popen([binary, "run", "-c", config, "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: _up(listen), 30, "the daemon")
        time.sleep(3)  # every monitor has run
        lag0 = daemon_bench.parse_lag(daemon_bench.metrics(listen))
        cpu0 = daemon_bench.cpu_seconds(daemon.pid)
        t0 = time.monotonic()
        admin_post(listen, "/api/v1/posts", {"title": "Bench post", "status": "investigating", "impact": "minor",
                                             "body": "A post to every subscriber."})
        api_s = time.monotonic() - t0
        # The incident opens while the subscriber mail is queued: its on-call mail goes first.
        STATE["healthy"] = False
        oncall = wait(lambda: inbox.count(lambda m: "oncall@bench.example" in m[1]), 120, "the on-call mail")
        opened = admin_get(listen, "/api/v1/incidents?state=open")["incidents"][0]["started_at"]
        oncall_s = oncall[0][3] - datetime.strptime(opened, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=timezone.utc).timestamp()
        subs_before_oncall = len(inbox.count(lambda m: m[0] <= oncall[0][0] and "oncall@bench.example" not in m[1]))
        if subscribers:
            wait(lambda: len(inbox.count(lambda m: "Bench post" in m[2])) >= subscribers, 600, "every subscriber mail")
        mails = inbox.count(lambda m: "Bench post" in m[2])
        all_s = (max(m[0] for m in mails) - t0) if mails else 0.0
        lag1 = daemon_bench.parse_lag(daemon_bench.metrics(listen))
        cpu = daemon_bench.cpu_seconds(daemon.pid) - cpu0
        q = lambda p: daemon_bench.quantile(lag0[0], lag1[0], p) * 1000
        print(f"{subscribers:>6} subscribers, {monitors + 1} monitors at 1 s: post API {api_s * 1000:.0f} ms; "
              f"on-call mail {oncall_s:.2f} s after the incident opened ({subs_before_oncall} subscriber mails before it); "
              f"all {len(mails)} subscriber mails in {all_s:.1f} s ({len(mails) / all_s if all_s else 0:.0f}/s); "
              f"scheduler lag p50 {q(0.5):.1f} ms p99 {q(0.99):.1f} ms p99.9 {q(0.999):.1f} ms; daemon CPU {cpu:.1f} s; "
              f"peak RSS {daemon_bench.peak_rss_mb(daemon.pid):.0f} MB")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        smtp.stop()
        STATE["healthy"] = True
        shutil.rmtree(work, ignore_errors=True)


def _up(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, nargs="+", default=[0, 10000])
    ap.add_argument("--monitors", type=int, default=200)
    args = ap.parse_args()
    target = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    for n in args.subscribers:
        run(n, args.monitors, target.server_port)


if __name__ == "__main__":
    main()
