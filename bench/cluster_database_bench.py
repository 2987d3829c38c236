#!/usr/bin/env python3
"""The cluster when its database fails, measured on one machine: a throwaway PostgreSQL 15, real
`lookout run` nodes (one per location) probing N http monitors each through an nginx that logs
every request, one log per location, a canary monitor and the webhook receiver of
bench/cluster_bench.py. The nodes' DSN names the primary and a standby port
(`target_session_attrs=read-write`). Two scenarios, one after the other:

1. PostgreSQL stopped (pg_ctl stop -m fast) for --gap seconds while the canary turns to failing:
   the rows the nodes spooled (lookout_spool_rows at the end of the gap), the time from the
   restart to /healthz 200 and to every spool written back, the time from the restart to the
   canary's incident in the database and to its webhook, and the rows lost: requests nginx
   logged less rows in `results`, per location, counted after the nodes stopped (a run in flight
   at SIGTERM may end unwritten); the nodes then start again;
2. a streaming standby (pg_basebackup -R) of the primary, the primary stopped with
   `-m immediate`, the standby promoted: the time from the promotion to each node writing
   results into it, the webhook of the canary failing after that, and the rows the standby
   lacks (replication is asynchronous: what the primary committed last may not have streamed).

Needs postgresql-15 and nginx-light (installed when missing, as bench/cluster_bench.py does)
and a build (build/ by default). As root, the servers run as nobody. Benchmarks stay out of CI.

    bench/cluster_database_bench.py [--build DIR] [--monitors 2000] [--interval 20s]
                                    [--locations 3] [--lease 10s] [--gap 60]
"""
import argparse
import calendar
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402
import daemon_bench  # noqa: E402
import pg_results_bench  # noqa: E402

ROOT = cluster_bench.ROOT
PG_BIN = cluster_bench.PG_BIN
as_owner = pg_results_bench.as_owner
free_port = pg_results_bench.free_port


def start_nginx(work, ports):
    """One nginx serving each location on its own port, with one access log per location."""
    conf = os.path.join(work, "nginx.conf")
    servers = "".join(f"""
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    access_log {work}/access-{loc}.log bare;
    location / {{ return 200 "ok\\n"; }}
  }}""" for loc, port in ports.items())
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
master_process off;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
  log_format bare '$msec $request_uri';
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
  uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;{servers}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-c", conf, "-p", work], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def requests_logged(work, loc):
    with open(os.path.join(work, f"access-{loc}.log")) as f:
        return sum(1 for _ in f)


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def spool_rows(port):
    _, body = http(port, "/metrics")
    m = re.search(r"^lookout_spool_rows (\d+)$", body, re.M)
    return int(m.group(1)) if m else -1


def wait_for(what, check, timeout, every=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return time.time()
        time.sleep(every)
    sys.exit(f"timed out waiting for {what}")


def pg_ctl(data, *args):
    subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, *args]), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_server(work, data, port, log):
    pg_ctl(data, "-l", f"{work}/{log}", "-w", "-o",
           f"-p {port} -k {work} -c listen_addresses=127.0.0.1", "start")


def canary_incidents(work, port):
    return int(cluster_bench.sql(work, port, "SELECT count(*) FROM incidents WHERE monitor = 'canary'"))


def opened_since(before):
    with cluster_bench.LOCK:
        return [a for a in cluster_bench.ARRIVALS[before:] if a[1] == "incident.opened"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--monitors", type=int, default=2000)
    p.add_argument("--interval", default="20s")
    p.add_argument("--locations", type=int, default=3)
    p.add_argument("--lease", default="10s")
    p.add_argument("--gap", type=float, default=60)
    args = p.parse_args()
    binary = os.path.join(args.build, "lookout")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: build it with scripts/build.sh")
    daemon_bench.ensure_nginx()

    work = cluster_bench.make_work("lookout-cluster-db-bench-")
    primary, standby = os.path.join(work, "primary"), os.path.join(work, "standby")
    p1, p2 = free_port(), free_port()
    dsn = (f"host=127.0.0.1,127.0.0.1 port={p1},{p2} user=lookout dbname=postgres "
           "target_session_attrs=read-write connect_timeout=2")
    locations = cluster_bench.LOCATIONS[:args.locations]
    ports = {loc: free_port() for loc in locations}
    nodes, listen, nginx = {}, {}, None

    def start_node(name, loc, config):
        log = open(os.path.join(work, f"{name}.log"), "a")
        env = dict(os.environ, LOOKOUT_PG=dsn, TARGET=f"http://127.0.0.1:{ports[loc]}")
        return subprocess.Popen([binary, "run", "-c", config], stdout=log, stderr=log, env=env)

    def stop_nodes():
        for proc in nodes.values():
            proc.send_signal(signal.SIGTERM)
        for proc in nodes.values():
            proc.wait(60)

    def missing(port):
        """Per location, the requests nginx logged less the rows `results` holds."""
        out = {}
        for loc in locations:
            rows = int(cluster_bench.sql(work, port, "SELECT count(*) FROM results WHERE monitor <> "
                                                     f"'canary' AND location = '{loc}'"))
            out[loc] = requests_logged(work, loc) - rows
        return out

    def connected_at(name, port, since):
        """When the node's log says it connected to the server on `port`, first after `since`."""
        with open(os.path.join(work, f"{name}.log")) as f:
            for line in f:
                m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)Z info: connected to "
                             rf"PostgreSQL at 127\.0\.0\.1:{port}\b", line)
                if m:
                    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2))
                    if t >= since:
                        return t
        return float("nan")

    try:
        subprocess.run(as_owner([f"{PG_BIN}/initdb", "-D", primary, "-A", "trust", "-U", "lookout",
                                 "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
        start_server(work, primary, p1, "primary.log")
        nginx = start_nginx(work, ports)
        canary, hook = cluster_bench.serve(cluster_bench.Canary), cluster_bench.serve(cluster_bench.Hook)
        configs = {}
        for loc in locations:
            name = f"{loc}-1"
            path = cluster_bench.write_node(work, name, loc, args, p1, 0, canary.server_address[1],
                                            hook.server_address[1])
            with open(path) as f:
                text = f.read()
            # Each location reaches its own nginx port; the monitors stay the same as written.
            text = text.replace("http://127.0.0.1:0/p", "${env:TARGET}/p")
            with open(path, "w") as f:
                f.write(text)
            listen[name] = int(re.search(r'listen = "127\.0\.0\.1:(\d+)"', text).group(1))
            configs[name] = (loc, path)
        first_loc, first_config = next(iter(configs.values()))
        subprocess.run([binary, "cluster", "init", "-c", first_config], check=True,
                       stdout=subprocess.DEVNULL, env=dict(
                           os.environ, LOOKOUT_PG=dsn, TARGET=f"http://127.0.0.1:{ports[first_loc]}"))
        for name, (loc, path) in configs.items():
            nodes[name] = start_node(name, loc, path)
        total = args.monitors + 1
        print(f"{len(nodes)} nodes in {len(locations)} locations, {total} monitors each, every "
              f"{args.interval}, lease {args.lease}; waiting for every monitor to be decided")
        wait_for("every monitor's state", lambda: int(cluster_bench.sql(
            work, p1, "SELECT count(*) FROM monitor_states")) >= total, 600, 1)
        time.sleep(5)

        # 1. PostgreSQL stopped.
        with cluster_bench.LOCK:
            before = len(cluster_bench.ARRIVALS)
        stopped = time.time()
        pg_ctl(primary, "-m", "fast", "-w", "stop")
        cluster_bench.CANARY["healthy"] = False
        time.sleep(max(0.0, args.gap - (time.time() - stopped)))
        spooled = {n: spool_rows(port) for n, port in listen.items()}
        unhealthy = all(http(port, "/healthz")[0] == 503 for port in listen.values())
        sent_while_away = len(opened_since(before))
        returned = time.time()
        start_server(work, primary, p1, "primary.log")
        healthy = wait_for("/healthz 200", lambda: all(
            http(port, "/healthz")[0] == 200 for port in listen.values()), 120)
        drained = wait_for("every spool written", lambda: all(
            spool_rows(port) == 0 for port in listen.values()), 300)
        wait_for("the canary's incident", lambda: canary_incidents(work, p1) == 1, 120)
        # When it was decided (its notification's creation, by the deciding node) and delivered
        # (the receiver's clock), rather than when a poll saw it.
        decided = float(cluster_bench.sql(work, p1, "SELECT extract(epoch FROM min(o.created)) FROM "
                                                    "outbox o JOIN incidents i ON i.id = o.incident_id "
                                                    "WHERE i.monitor = 'canary'"))
        wait_for("its webhook", lambda: opened_since(before), 120)
        delivered = opened_since(before)[0][0]
        print(f"PostgreSQL stopped for {returned - stopped:.0f} s:")
        print(f"  rows spooled at the end: {sum(spooled.values())} "
              f"({', '.join(f'{n} {r}' for n, r in spooled.items())}); /healthz 503 on every node: "
              f"{unhealthy}; webhooks while away: {sent_while_away}")
        print(f"  from the restart: /healthz 200 on every node after {healthy - returned:.2f} s, "
              f"every spool written after {drained - returned:.2f} s, the canary's incident in "
              f"the database after {decided - returned:.2f} s, its webhook after "
              f"{delivered - returned:.2f} s")
        cluster_bench.CANARY["healthy"] = True
        wait_for("the canary's recovery", lambda: cluster_bench.sql(
            work, p1, "SELECT count(*) FROM incidents WHERE resolved_at IS NULL") == "0", 120)
        stop_nodes()
        lost = missing(p1)
        print("  rows lost: " + ", ".join(f"{loc} {n}" for loc, n in lost.items()) +
              " (requests nginx logged less rows in results, after SIGTERM)")
        restarted = time.time()
        for name, (loc, path) in configs.items():
            nodes[name] = start_node(name, loc, path)
        wait_for("every node writing again", lambda: len(cluster_bench.sql(
            work, p1, f"SELECT DISTINCT node FROM results WHERE t > to_timestamp({restarted})"
        ).split()) == len(nodes), 120)

        # 2. A promoted standby.
        subprocess.run(as_owner([f"{PG_BIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(p1), "-U",
                                 "lookout", "-D", standby, "-R", "-X", "stream", "-c", "fast"]),
                       check=True, stdout=subprocess.DEVNULL)
        start_server(work, standby, p2, "standby.log")
        wait_for("the standby streaming", lambda: cluster_bench.sql(
            work, p2, "SELECT status FROM pg_stat_wal_receiver") == "streaming", 60)
        failed = time.time()
        pg_ctl(primary, "-m", "immediate", "-w", "stop")
        pg_ctl(standby, "-w", "promote")
        promoted = time.time()
        writing = {}

        def all_writing():
            rows = cluster_bench.sql(
                work, p2, "SELECT node FROM results WHERE t > "
                          f"to_timestamp({promoted}) GROUP BY node")
            for node in rows.split():
                writing.setdefault(node, time.time())
            return len(writing) == len(nodes)
        wait_for("every node writing to the promoted standby", all_writing, 120)
        with cluster_bench.LOCK:
            before = len(cluster_bench.ARRIVALS)
        cluster_bench.CANARY["healthy"] = False
        down = time.time()
        wait_for("the canary's incident after the promotion", lambda: opened_since(before), 120)
        delivered = opened_since(before)[0][0]
        print(f"standby promoted ({promoted - failed:.2f} s from the primary's stop to pg_ctl "
              "promote returning):")
        print("  from the promotion to each node connected to it (its log): " + ", ".join(
            f"{n} {connected_at(n, p2, failed) - promoted:.2f} s" for n in sorted(nodes)))
        print("  from the promotion to each node's results seen in it (polled): " + ", ".join(
            f"{n} {t - promoted:.2f} s" for n, t in sorted(writing.items())))
        print(f"  the canary failing after that: its incident's webhook {delivered - down:.2f} s later")
        cluster_bench.CANARY["healthy"] = True

        stop_nodes()
        lost2 = missing(p2)
        print("  rows missing from the promoted standby: " + ", ".join(
            f"{loc} {lost2[loc] - lost[loc]}" for loc in locations) +
            " (committed on the primary and not yet streamed when it stopped: replication is "
            "asynchronous)")
        print(f"logs in {work}")
    finally:
        for proc in nodes.values():
            if proc.poll() is None:
                proc.kill()
        if nginx:
            nginx.terminate()
            nginx.wait(10)
        for data in (primary, standby):
            if os.path.isdir(data):
                subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
