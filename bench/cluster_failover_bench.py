#!/usr/bin/env python3
"""Cluster mode's failover under the contract's default lease (10 s), on one machine: a
throwaway PostgreSQL 15, one canary target and three real `lookout run` nodes of one location
(fra-1, fra-2, fra-3), each with a webhook receiver of its own in this script, so that the
receivers tell which node sent what. One location, so that every kill moves the canary's
probing along with its deciding, the slower of the two. It reports:

- kill -9 of the node deciding the canary, N times (20 by default), each at a random moment
  within a lease of the last delivery: the canary changes state at the kill, and the script
  measures from the kill to another tenure of the canary's eval lease (read from `leases`) and
  to the webhook's delivery of the event that change brings (decided and sent after the
  takeover). The killed node is restarted at once under its name, as systemd would, so the
  cluster keeps three nodes.
- SIGSTOP of the deciding node for 30 s while the canary changes state twice, then SIGCONT:
  what the woken node sent before it held a lease again (must be 0), and the decisions it
  wrote meanwhile (must be 0).

Reuses bench/cluster_bench.py's PostgreSQL, nodes and canary. Needs postgresql-15 and a build
(build/ by default). Benchmarks stay out of CI.

    bench/cluster_failover_bench.py [--build DIR] [--lease 10s] [--kills 20] [--pause 30]
"""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402

ROOT = cluster_bench.ROOT
NODES = ["fra-1", "fra-2", "fra-3"]
LOCK = threading.Lock()
ARRIVALS = {}  # node -> [(unix seconds, event, notification id, incident id)]


def hook_of(node):
    """A webhook receiver class that logs what `node` sends."""
    ARRIVALS[node] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            now = time.time()
            self.send_response(200)
            self.end_headers()
            with LOCK:
                ARRIVALS[node].append((now, body["event"], body["id"], body["incident"]["id"]))

        def log_message(self, *args):
            pass

    return Hook


def arrivals():
    with LOCK:
        return sorted((a + (n,) for n, seen in ARRIVALS.items() for a in seen))


def tenure(work, port, lease_name):
    """(holder, epoch) of the lease held now, or None."""
    row = cluster_bench.sql(work, port, f"SELECT holder || ' ' || epoch FROM leases WHERE name = "
                                        f"'{lease_name}' AND holder IS NOT NULL AND expires_at > "
                                        "clock_timestamp()")
    if not row:
        return None
    holder, epoch = row.split(" ")
    return holder, int(epoch)


def poll(what, check, timeout, every=0.02):
    end = time.time() + timeout
    while time.time() < end:
        got = check()
        if got:
            return got
        time.sleep(every)
    sys.exit(f"timed out waiting for {what}")


def quantile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--lease", default="10s")
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--pause", type=float, default=30)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    binary = os.path.join(args.build, "lookout")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: build it with scripts/build.sh")
    lease_s = float(args.lease.rstrip("s"))
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    work = cluster_bench.make_work("lookout-failover-bench-")
    data = os.path.join(work, "data")
    nodes = {}
    try:
        pg_port, _ = cluster_bench.start_postgres(work, data)
        canary = cluster_bench.serve(cluster_bench.Canary)
        hooks = {n: cluster_bench.serve(hook_of(n)) for n in NODES}
        shape = types.SimpleNamespace(lease=args.lease, interval="30s", monitors=0)
        configs = {n: cluster_bench.write_node(work, n, "fra", shape, pg_port, 0,
                                               canary.server_address[1],
                                               hooks[n].server_address[1])
                   for n in NODES}
        cluster_bench.init_schema(binary, configs[NODES[0]], pg_port)
        for n in NODES:
            nodes[n] = cluster_bench.start_node(binary, configs[n], work, n, pg_port)
        sql = lambda q: cluster_bench.sql(work, pg_port, q)  # noqa: E731
        poll("the canary's state", lambda: sql("SELECT state FROM monitor_states") == "up", 120,
             0.2)
        shard = int(sql("SELECT shard FROM monitor_states WHERE monitor = 'canary'"))
        lease_name = f"eval/{shard}"
        print(f"3 nodes of one location, lease {args.lease}, canary every 1s, seed {seed}")

        # kill -9 of the canary's decider.
        takeovers, deliveries = [], []
        for k in range(args.kills):
            time.sleep(rng.uniform(0, lease_s))
            before = poll("a holder", lambda: tenure(work, pg_port, lease_name), 60)
            seen = len(arrivals())
            cluster_bench.CANARY["healthy"] = not cluster_bench.CANARY["healthy"]
            event = "incident.resolved" if cluster_bench.CANARY["healthy"] else "incident.opened"
            killed = time.time()
            nodes[before[0]].send_signal(signal.SIGKILL)
            nodes[before[0]].wait()
            nodes[before[0]] = cluster_bench.start_node(binary, configs[before[0]], work,
                                                        before[0], pg_port)
            poll("another tenure", lambda: (t := tenure(work, pg_port, lease_name)) and
                 t[1] > before[1], 120)
            takeovers.append(time.time() - killed)
            arrived = poll(event, lambda: next((a for a in arrivals()[seen:] if a[1] == event),
                                               None), 120)
            deliveries.append(arrived[0] - killed)
            print(f"  kill {k + 1}: {before[0]} (epoch {before[1]}), takeover "
                  f"{takeovers[-1]:.2f} s, {event} delivered by {arrived[4]} after "
                  f"{deliveries[-1]:.2f} s", flush=True)
        print(f"takeover after kill -9 (lease {args.lease}, {len(takeovers)} kills): p50 "
              f"{quantile(takeovers, 0.5):.2f} s, p99 {quantile(takeovers, 0.99):.2f} s, max "
              f"{max(takeovers):.2f} s")
        print(f"kill to the delivery of the next event: p50 {quantile(deliveries, 0.5):.2f} s, "
              f"p99 {quantile(deliveries, 0.99):.2f} s, max {max(deliveries):.2f} s")
        unsent = sql("SELECT count(*) FROM outbox WHERE status <> 'sent'")
        open_twice = sql("SELECT count(*) FROM (SELECT monitor FROM incidents WHERE resolved_at "
                         "IS NULL GROUP BY monitor HAVING count(*) > 1) d")
        print(f"  incidents {sql('SELECT count(*) FROM incidents')}, outbox rows not sent "
              f"{unsent}, monitors with two open incidents {open_twice}")

        # SIGSTOP of the canary's decider.
        time.sleep(lease_s)
        paused, _ = poll("a holder", lambda: tenure(work, pg_port, lease_name), 60)
        last_event = int(sql("SELECT coalesce(max(id), 0) FROM incident_events"))
        stopped = time.time()
        nodes[paused].send_signal(signal.SIGSTOP)
        changes = 0
        while time.time() - stopped < args.pause:
            elapsed = time.time() - stopped
            if changes < 2 and elapsed >= (changes + 1) * args.pause / 3:
                cluster_bench.CANARY["healthy"] = not cluster_bench.CANARY["healthy"]
                changes += 1
            time.sleep(0.1)
        taken = tenure(work, pg_port, lease_name)
        paused_seen = len(ARRIVALS[paused])
        woken = time.time()
        nodes[paused].send_signal(signal.SIGCONT)
        since = poll("the woken node's lease", lambda: sql(
            f"SELECT extract(epoch FROM min(expires_at)) - {lease_s} FROM leases WHERE holder = "
            f"'{paused}' AND expires_at > clock_timestamp()"), 120)
        holds = float(since)
        its_events = int(sql(f"SELECT count(*) FROM incident_events WHERE id > {last_event} "
                             f"AND node = '{paused}'"))
        time.sleep(2)
        with LOCK:
            sent = [a for a in ARRIVALS[paused][paused_seen:] if a[0] < holds]
        others = int(sql(f"SELECT count(*) FROM incident_events WHERE id > {last_event} "
                         f"AND node <> '{paused}'"))
        print(f"SIGSTOP of {paused} for {args.pause:.0f} s (the canary changed state {changes} "
              f"times meanwhile; {taken[0] if taken else 'nobody'} held its eval lease at "
              f"SIGCONT): it held a lease again {holds - woken:.2f} s after SIGCONT; sent before "
              f"that: {len(sent)}; decisions it wrote before that: {its_events}; events the "
              f"others wrote meanwhile: {others}")
        print(f"logs in {work}")
    finally:
        cluster_bench.stop_nodes(nodes)
        cluster_bench.stop_postgres(data)


if __name__ == "__main__":
    main()
