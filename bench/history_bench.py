#!/usr/bin/env python3
"""History at scale: backfills 90 days for 1,000 monitors at a 60 s interval, runs the daemon
on that database with the same 1,000 monitors (probing a local nginx), and reports the
database size, the housekeeping tick's cost (rollups, retention, summaries; the store thread's
CPU time; the first tick, which catches up on the backfill, and a steady one), the CPU time of
the store thread and of the whole daemon between two ticks (writing each batch and bringing the
summaries up to date after each commit, while the monitors are probed), and the latency of the
history query for one monitor over 90 days and of /api/v1/status for all monitors; then `wrk`
(32 connections, 10 s) on / and on /api/v1/status while the daemon keeps probing, with the
scheduler lag over that time, and the weight of / (plain and gzip-compressed). Loopback
only; stops everything it started.

    bench/history_bench.py [--monitors 1000] [--days 90] [--requests 200] [--build build]
                           [--db FILE] [--pages-only]

--pages-only skips the ticks and the history requests: page weight and wrk only, to compare two
builds back to back.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_bench  # noqa: E402  (nginx, config and metrics helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get_ms(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
    return (time.perf_counter() - t0) * 1000


def page_weight(url):
    """Bytes of the answer plain and as sent to a client that asks for gzip."""
    with urllib.request.urlopen(url, timeout=30) as r:
        plain = len(r.read())
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.headers.get("Content-Encoding") != "gzip":
            raise SystemExit(f"{url} did not answer gzip-compressed")
        compressed = len(r.read())
    return plain, compressed


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1)))]


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %f %f %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.bytes / math.max(summary.requests, 1)))
end
"""


def wrk(url, work):
    """requests/s, p50/p95/p99 ms and bytes per answer (compressed) over 10 s with 32 connections."""
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    script = os.path.join(work, "report.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    # Browsers ask for gzip; so does the benchmark.
    out = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "-H", "Accept-Encoding: gzip", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    rps, p50, p95, p99, size = line.split()[1:]
    return float(rps), float(p50), float(p95), float(p99), int(size)


def lag_p99(before, after):
    b0, _, _ = daemon_bench.parse_lag(before)
    b1, _, _ = daemon_bench.parse_lag(after)
    return daemon_bench.quantile(b0, b1, 0.99) * 1000


def thread_cpu(pid):
    """CPU seconds (utime + stime) of each of the process's threads, by thread id."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def between_ticks(base, pid, tick_cpu, seconds=45):
    """CPU seconds per minute of the store thread and of the whole daemon between two ticks
    (just after one, for `seconds`), when every commit brings the summaries up to date. The
    store thread is the one that then spends the most during the next tick."""
    t0 = thread_cpu(pid)
    time.sleep(seconds)
    t1 = thread_cpu(pid)
    if metric(urllib.request.urlopen(base + "/metrics", timeout=10).read().decode(),
              "lookout_storage_housekeeping_cpu_seconds") != tick_cpu:
        raise SystemExit("a housekeeping tick ran inside the measured span")
    deadline = time.time() + 90
    while time.time() < deadline:
        text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        if metric(text, "lookout_storage_housekeeping_cpu_seconds") != tick_cpu:
            break
        time.sleep(0.5)
    t2 = thread_cpu(pid)
    store = max(t2, key=lambda tid: t2[tid] - t1.get(tid, 0))
    per_min = 60 / seconds
    return ((t1[store] - t0.get(store, 0)) * per_min,
            sum(c - t0.get(tid, 0) for tid, c in t1.items()) * per_min)


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def pages(base, work):
    """The weight of / and wrk on / and /api/v1/status, with the scheduler lag meanwhile."""
    plain, compressed = page_weight(base + "/")
    print(f"page /: {plain / 1e6:.3f} MB plain, {compressed / 1e3:.0f} KB gzip")
    loads = []
    for path in ("/", "/api/v1/status"):
        m0 = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        loads.append((path, wrk(base + path, work), lag_p99(m0, urllib.request.urlopen(base + "/metrics", timeout=10).read().decode())))
    print(f"{'wrk -c32 -d10s':<16} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'size KB':>8} {'lag p99 ms':>10}")
    for path, (rps, p50, p95, p99, size), lag in loads:
        print(f"{path:<16} {rps:>8.0f} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {size / 1024:>8.0f} {lag:>10.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--monitors", type=int, default=1000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--db", help="a database to reuse (backfilled on first use), to repeat runs without the backfill")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder with lookout and lookout-backfill")
    ap.add_argument("--backfill", help="the lookout-backfill binary (default: the one in --build)")
    ap.add_argument("--pages-only", action="store_true", help="only the page weight and the wrk runs")
    args = ap.parse_args()
    daemon_bench.ensure_nginx()
    work = tempfile.mkdtemp(prefix="lookout-history-bench-")
    nginx = daemon = None
    try:
        db = args.db or os.path.join(work, "bench.db")
        if not os.path.exists(db):
            t0 = time.time()
            subprocess.run([args.backfill or os.path.join(args.build, "lookout-backfill"), "--db", db, "--monitors", str(args.monitors),
                            "--days", str(args.days)], check=True)
            print(f"backfill: {time.time() - t0:.0f} s")
        size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))

        target, listen = daemon_bench.free_port(), daemon_bench.free_port()
        nginx = daemon_bench.start_nginx(work, target)
        config = daemon_bench.write_config(work, args.monitors, "60s", target, listen, db)
        daemon = subprocess.Popen([os.path.join(args.build, "lookout"), "run", "-c", config, "--log-level", "warn"],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "lookout.log"), "w"))
        base = f"http://127.0.0.1:{listen}"
        deadline = time.time() + 300
        tick = None
        while time.time() < deadline:
            try:
                text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
                tick = metric(text, "lookout_storage_housekeeping_seconds")
                if tick:
                    cpu = metric(text, "lookout_storage_housekeeping_cpu_seconds")
                    break
            except OSError:
                pass
            time.sleep(0.5)
        if not tick:
            raise SystemExit("the daemon did not finish its first housekeeping tick")
        if args.pages_only:
            pages(base, work)
            return
        # The first tick also catches up on retention of the backfilled rows; the next one, a
        # minute later, is what every minute costs.
        first_tick, first_cpu = tick, cpu
        deadline = time.time() + 90
        while time.time() < deadline:
            text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
            cpu = metric(text, "lookout_storage_housekeeping_cpu_seconds")
            if cpu != first_cpu:
                tick = metric(text, "lookout_storage_housekeeping_seconds")
                break
            time.sleep(1)
        store_cpu, daemon_cpu = between_ticks(base, daemon.pid, cpu)

        history = [get_ms(base + "/api/v1/monitors/m1/history?window=90d") for _ in range(args.requests)]
        hourly = [get_ms(base + "/api/v1/monitors/m1/history?window=90d&step=1h") for _ in range(args.requests // 4)]
        status = [get_ms(base + "/api/v1/status") for _ in range(args.requests)]
        print(f"{'monitors':>8} {'days':>4} {'db MB':>7} {'1st tick CPU s':>14} {'tick s':>7} {'tick CPU s':>10} "
              f"{'between ticks: store/all CPU s/min':>34} {'hist 90d p50/p95 ms':>20} {'hist 90d@1h p95 ms':>19} "
              f"{'status p50/p95 ms':>18}")
        print(f"{args.monitors:>8} {args.days:>4} {size / 1e6:>7.0f} {first_cpu:>14.2f} {tick:>7.2f} {cpu:>10.2f} "
              f"{store_cpu:>28.2f}/{daemon_cpu:<5.2f} {percentile(history, .5):>9.1f}/{percentile(history, .95):<10.1f} "
              f"{percentile(hourly, .95):>19.1f} {percentile(status, .5):>8.2f}/{percentile(status, .95):<9.2f}")
        print()
        pages(base, work)
    finally:
        if daemon:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
        if nginx:
            nginx.terminate()
            nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
