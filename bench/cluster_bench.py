#!/usr/bin/env python3
"""Cluster mode at the contract's scale on one machine: a throwaway PostgreSQL 15 (stock
settings) on a free port, one nginx target, a webhook receiver in this script, and three real
`lookout run` nodes, one in each of three locations, each probing N http monitors (10,000 every
30 s by default: 1,000 results a second in all). It reports, over the measured window:

- results written a second, and the CPU per result of each node and of PostgreSQL (the
  postmaster and every process under it, from /proc), and the database's growth per million
  results;
- the time from a DOWN decision (the incident's started_at, written by the deciding node) to
  the webhook's arrival, for a canary monitor made to fail from every location, several times;
- the takeover after kill -9 of the node deciding the canary: from the kill to another node
  holding its eval lease, and to that node's first decision about it;
- with --statements, where PostgreSQL's time went in the window: the statements by total time,
  with their calls and rows a second (pg_stat_statements, loaded at the server's start; it
  costs the server a little CPU of its own).

Needs postgresql-15 and nginx-light (scripts/install-deps.sh --test installs the first; the
script installs the second when missing) and a build (build/ by default). As root, the server
runs as nobody, since PostgreSQL refuses to run as root. Benchmarks stay out of CI.

    bench/cluster_bench.py [--build DIR] [--monitors 10000] [--interval 30s] [--seconds 60]
                           [--lease 10s] [--cycles 3] [--kills 3] [--statements]
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
import pg_results_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = pg_results_bench.PG_BIN
LOCATIONS = ["fra", "nyc", "sgp"]
CANARY = {"healthy": True}
ARRIVALS = []  # (unix seconds, event, incident id)
LOCK = threading.Lock()


class Canary(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if CANARY["healthy"] else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.time()
        self.send_response(200)
        self.end_headers()
        for e in json.loads(body).get("events", [json.loads(body)]):
            with LOCK:
                ARRIVALS.append((now, e["event"], e["incident"]["id"]))

    def log_message(self, *args):
        pass


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sql(work, port, query):
    out = subprocess.run([f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(port), "-U", "lookout",
                          "-d", "postgres", "-XAtq", "-c", query],
                         check=True, capture_output=True, text=True, cwd=work)
    return out.stdout.strip()


def server_cpu(server_pid):
    """CPU seconds of the postmaster and every process whose parent it is."""
    total = daemon_bench.cpu_seconds(server_pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[1] == str(server_pid):
                total += daemon_bench.cpu_seconds(int(entry))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def inserted(work, port):
    return int(sql(work, port, "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables "
                               "WHERE relname LIKE 'results_%'"))


def top_statements(work, port, elapsed, limit=12):
    rows = sql(work, port, "SELECT round(total_exec_time::numeric, 1), calls, rows, "
                           "regexp_replace(left(query, 110), '\\s+', ' ', 'g') "
                           "FROM pg_stat_statements ORDER BY total_exec_time DESC "
                           f"LIMIT {limit}")
    print(f"statements by total time over {elapsed:.0f} s:")
    print("  ms/s    calls/s   rows/s  statement")
    for line in rows.splitlines():
        ms, calls, n, query = line.split("|", 3)
        print(f"  {float(ms) / elapsed:6.1f} {int(calls) / elapsed:9.1f} {int(n) / elapsed:8.0f}  "
              f"{query}")


def write_node(work, name, location, args, pg_port, target_port, canary_port, hook_port):
    path = os.path.join(work, f"{name}.toml")
    listen = pg_results_bench.free_port()
    with open(path, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{listen}"\npublic_url = "http://127.0.0.1:{listen}"\n')
        f.write(f'[storage]\npath = "{work}/{name}-spool.db"\n')
        f.write('[scheduler]\nmax_in_flight = 2048\nmax_per_host = 2048\n')
        f.write(f'[cluster]\ndsn = "${{env:LOOKOUT_PG}}"\n'
                f'node = "{name}"\nlocation = "{location}"\nlease = "{args.lease}"\n')
        f.write(f'[[channel]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:{hook_port}/"\n'
                'timeout = "2s"\n')
        f.write('[[route]]\nname = "oncall"\nnotify = "hook"\ngroup_wait = "0s"\ngroup_interval = "0s"\n')
        f.write(f'[defaults]\ninterval = "{args.interval}"\ntimeout = "5s"\n')
        f.write(f'[[monitor]]\nname = "canary"\ntype = "http"\nurl = "http://127.0.0.1:{canary_port}/"\n'
                'interval = "1s"\ntimeout = "1s"\nfail_after = 1\nrecover_after = 1\n')
        for i in range(args.monitors):
            f.write(f'[[monitor]]\nname = "m{i}"\ntype = "http"\nurl = "http://127.0.0.1:{target_port}/p{i}"\n')
    return path


def make_work(prefix):
    """A folder for a run, owned by nobody when run as root (PostgreSQL refuses root)."""
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)
    if os.geteuid() == 0:
        shutil.chown(work, "nobody", "nogroup")
    return work


def start_postgres(work, data, statements=False):
    """A throwaway PostgreSQL 15 in `data` on a free port, with pg_stat_statements loaded when
    `statements`; returns (port, postmaster pid)."""
    pg_port = pg_results_bench.free_port()
    as_owner = pg_results_bench.as_owner
    subprocess.run(as_owner([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "lookout",
                             "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
    options = f"-p {pg_port} -k {work} -c listen_addresses=127.0.0.1"
    if statements:
        options += " -c shared_preload_libraries=pg_stat_statements"
    subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-l", f"{work}/server.log", "-w",
                             "-o", options, "start"]), check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(data, "postmaster.pid")) as f:
        return pg_port, int(f.readline().strip())


def stop_nodes(nodes):
    """SIGTERM to every node still running (SIGCONT first, for one a benchmark paused), then
    waits for each, killing one that does not stop within 30 s."""
    for proc in nodes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
    for proc in nodes.values():
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def stop_postgres(data):
    subprocess.run(pg_results_bench.as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w",
                                              "stop"]),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def node_env(pg_port, extra=None):
    return dict(os.environ, LOOKOUT_PG=f"host=127.0.0.1 port={pg_port} user=lookout dbname=postgres",
                **(extra or {}))


def init_schema(binary, config, pg_port):
    subprocess.run([binary, "cluster", "init", "-c", config], check=True,
                   stdout=subprocess.DEVNULL, env=node_env(pg_port))


def start_node(binary, config, work, name, pg_port, env=None):
    log = open(os.path.join(work, f"{name}.log"), "a")
    return subprocess.Popen([binary, "run", "-c", config], stdout=log, stderr=log,
                            env=node_env(pg_port, env))


def wait_for(what, check, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return True
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}")


def canary_holder(work, port, lease_name):
    return sql(work, port, f"SELECT holder FROM leases WHERE name = '{lease_name}' "
                           "AND holder IS NOT NULL AND expires_at > clock_timestamp()")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--monitors", type=int, default=10000)
    p.add_argument("--interval", default="30s")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--lease", default="10s")
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--statements", action="store_true",
                   help="load pg_stat_statements and list the statements by total time")
    args = p.parse_args()
    binary = os.path.join(args.build, "lookout")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: build it with scripts/build.sh")
    daemon_bench.ensure_nginx()

    work = make_work("lookout-cluster-bench-")
    data = os.path.join(work, "data")
    nodes, nginx = {}, None
    try:
        pg_port, server_pid = start_postgres(work, data, statements=args.statements)
        target_port = pg_results_bench.free_port()
        nginx = daemon_bench.start_nginx(work, target_port)
        canary, hook = serve(Canary), serve(Hook)
        configs = {}
        for loc in LOCATIONS:
            name = f"{loc}-1"
            configs[name] = write_node(work, name, loc, args, pg_port, target_port,
                                       canary.server_address[1], hook.server_address[1])
        init_schema(binary, configs["fra-1"], pg_port)
        for name, config in configs.items():
            nodes[name] = start_node(binary, config, work, name, pg_port)
        total = args.monitors + 1
        print(f"{len(nodes)} nodes, {total} monitors each from its location; waiting for every "
              "monitor to be decided")
        wait_for("every monitor's state", lambda: int(sql(
            work, pg_port, "SELECT count(*) FROM monitor_states")) >= total, 600)
        time.sleep(5)
        if args.statements:
            sql(work, pg_port, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            sql(work, pg_port, "SELECT pg_stat_statements_reset()")

        # The steady state.
        cpu0 = {n: daemon_bench.cpu_seconds(proc.pid) for n, proc in nodes.items()}
        pg0, rows0 = server_cpu(server_pid), inserted(work, pg_port)
        size0 = int(sql(work, pg_port, "SELECT pg_database_size('postgres')"))
        t0 = time.time()
        time.sleep(args.seconds)
        elapsed = time.time() - t0
        cpu1 = {n: daemon_bench.cpu_seconds(proc.pid) for n, proc in nodes.items()}
        pg1, rows1 = server_cpu(server_pid), inserted(work, pg_port)
        size1 = int(sql(work, pg_port, "SELECT pg_database_size('postgres')"))
        rows = rows1 - rows0
        print(f"results: {rows / elapsed:.0f}/s over {elapsed:.0f} s")
        for n in nodes:
            used = cpu1[n] - cpu0[n]
            print(f"  node {n}: {used / elapsed * 100:.1f}% of a core, "
                  f"{used * 1000 / max(1, rows / len(nodes)):.3f} CPU-ms per result it wrote")
        print(f"  PostgreSQL: {(pg1 - pg0) / elapsed * 100:.1f}% of a core, "
              f"{(pg1 - pg0) * 1000 / max(1, rows):.3f} CPU-ms per result")
        # Bytes per result are MB per million results.
        print(f"  database growth: {(size1 - size0) / max(1, rows):.0f} MB per million results")
        if args.statements:
            top_statements(work, pg_port, elapsed)

        # DOWN decision to delivery.
        delays = []
        for _ in range(args.cycles):
            with LOCK:
                before = len(ARRIVALS)
            CANARY["healthy"] = False
            wait_for("incident.opened", lambda: any(
                e == "incident.opened" for _, e, _ in ARRIVALS[before:]), 60)
            with LOCK:
                at, _, incident = next(a for a in ARRIVALS[before:] if a[1] == "incident.opened")
            started = float(sql(work, pg_port, "SELECT extract(epoch FROM started_at) FROM incidents "
                                               f"WHERE id = {incident}"))
            delays.append(at - started)
            CANARY["healthy"] = True
            wait_for("incident.resolved", lambda: any(
                e == "incident.resolved" for _, e, _ in ARRIVALS[before:]), 60)
        delays.sort()
        print(f"DOWN decision to webhook: median {delays[len(delays) // 2] * 1000:.0f} ms, "
              f"max {delays[-1] * 1000:.0f} ms over {len(delays)} incidents")

        # kill -9 of the canary's decider.
        shard = int(sql(work, pg_port, "SELECT shard FROM monitor_states WHERE monitor = 'canary'"))
        lease_name = f"eval/{shard}"
        takeovers = []
        for _ in range(args.kills):
            victim = canary_holder(work, pg_port, lease_name)
            killed = time.time()
            nodes[victim].send_signal(signal.SIGKILL)
            nodes[victim].wait()
            wait_for("another holder", lambda: canary_holder(work, pg_port, lease_name)
                     not in ("", victim), 120)
            takeovers.append(time.time() - killed)
            nodes[victim] = start_node(binary, configs[victim], work, victim, pg_port)
            time.sleep(float(args.lease.rstrip("s")) * 2)
        takeovers.sort()
        print(f"takeover after kill -9 (lease {args.lease}): median "
              f"{takeovers[len(takeovers) // 2]:.2f} s, max {takeovers[-1]:.2f} s over "
              f"{len(takeovers)} kills")
        print(f"logs in {work}")
    finally:
        stop_nodes(nodes)
        if nginx:
            nginx.terminate()
            nginx.wait(10)
        stop_postgres(data)


if __name__ == "__main__":
    main()
