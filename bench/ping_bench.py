#!/usr/bin/env python3
"""Heartbeat pings under load: the real daemon with 1,000 http monitors at 10 s against a local
nginx and 100 heartbeat monitors, each with its own token, while wrk sends GET /ping/TOKEN over
keep-alive connections, rotating over the tokens. Three windows, one after the other:

  idle    no pings for --idle-seconds: what the http monitors cost alone;
  max     as fast as the connections go (closed loop): the ceiling, and latency at saturation;
  paced   at --rate pings/s (each request has its own send slot, so the rate holds whatever the
          answers' latency): latency at the aimed-for rate.

For each window: pings/s and latency p50/p99 (wrk's), answers other than 2xx and socket errors
(must be 0: the config raises ping_rate_limit out of the way), pings judged by the daemon
(its runs of the heartbeat monitors; at least the 2xx answers), whether the http monitors kept
their schedule (lag p50/p99 from the daemon's histogram, missed slots, runs started against
the 100/s due), the daemon's CPU (of one core; its event loop, the web pool's threads and the
rest apart) and wrk's and nginx's, and the machine's idle share. At the end every heartbeat
monitor must be `up` with `last_ping` set in /api/v1/status. Loopback only; about a minute.

Needs wrk and nginx-light (installed from Debian when missing, as `apt-get install wrk
nginx-light` would). Benchmarks stay out of CI.

    bench/ping_bench.py [--rate 5000] [--connections 32] [--seconds 20] [--heartbeats 100]
                        [--monitors 1000] [--interval 10s] [--method GET|POST]
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_bench as lib  # noqa: E402  (nginx, metrics and /proc helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
ADMIN_TOKEN = "ping-bench-admin-token-7f3a"
AIM_RATE, AIM_P99_MS = 5000, 10.0


def token(i):
    return f"bench-ping-{i:04d}-token"


def write_config(work, args, target_port, listen_port):
    path = os.path.join(work, "ping.toml")
    with open(path, "w") as f:
        # The parser takes at most six digits: far above what one token gets here (the rate
        # spread over the tokens), so the limiter never answers 429.
        f.write(f'[server]\nlisten = "127.0.0.1:{listen_port}"\ntitle = "ping bench"\n'
                'admin_token = "${env:LOOKOUT_BENCH_ADMIN_TOKEN}"\nping_rate_limit = "999999/s"\n\n')
        f.write(f'[storage]\npath = "{work}/ping.db"\n\n')
        f.write('[scheduler]\nmax_in_flight = 2048\nmax_per_host = 2048\n\n')
        timeout = min(5.0, float(args.interval.rstrip("s")))  # a run ends before the next is due
        f.write(f'[defaults]\ninterval = "{args.interval}"\ntimeout = "{timeout:g}s"\npublic = true\n\n')
        for i in range(args.monitors):
            f.write(f'[[monitor]]\nname = "m{i}"\ntype = "http"\nurl = "http://127.0.0.1:{target_port}/p{i}"\n\n')
        # A period far longer than the run: no heartbeat goes late while the bench runs.
        for i in range(args.heartbeats):
            f.write(f'[[monitor]]\nname = "hb{i}"\ntype = "heartbeat"\ntoken = "{token(i)}"\n'
                    'period = "1h"\ngrace = "1h"\n\n')
    os.chmod(path, 0o600)  # it holds the tokens
    return path


def write_lua(work, args, rate):
    """wrk's script: one prepared request per token, taken in turn. With a rate, each request
    gets the next send slot of its wrk thread (start + n / rate) and waits for it, so a slow
    answer on one connection does not slow the others' sending."""
    path = os.path.join(work, f"ping-{rate or 'max'}.lua")
    tokens = ",".join(f'"{token(i)}"' for i in range(args.heartbeats))
    body = '"ok"' if args.method == "POST" else "nil"
    per_thread = rate / args.wrk_threads if rate else 0
    with open(path, "w") as f:
        f.write(f"""
local tokens = {{{tokens}}}
local reqs, i = {{}}, 0
function init(args)
  for k, t in ipairs(tokens) do
    reqs[k] = wrk.format("{args.method}", "/ping/" .. t, nil, {body})
  end
  i = math.random(#reqs)
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
""")
        if rate:
            f.write(f"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} pingbench_timespec;
int clock_gettime(int clk, pingbench_timespec *tp);
]]
local ts = ffi.new("pingbench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
local step, start, sent = {1.0 / per_thread!r}, nil, 0
function delay()
  local t = now()
  if not start then start = t end
  local slot = start + sent * step
  sent = sent + 1
  if slot <= t then return 0 end  -- behind: at once
  return math.floor((slot - t) * 1000 + 0.5)
end
""")
    return path


def duration_ms(text):
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", text)
    if not m:
        return float("nan")
    return float(m[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m[2]]


def parse_wrk(out):
    r = {"requests": 0, "rps": 0.0, "non2xx": 0, "socket_errors": 0, "p50_ms": float("nan"),
         "p90_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    for line in out.splitlines():
        s = line.split()
        if not s:
            continue
        if s[0] == "Latency" and len(s) >= 4:
            r["max_ms"] = duration_ms(s[3])
        elif s[0] in ("50%", "90%", "99%") and len(s) == 2:
            r[f"p{s[0][:-1]}_ms"] = duration_ms(s[1])
        elif len(s) > 2 and s[1] == "requests" and s[2] == "in":
            r["requests"] = int(s[0])
        elif s[0] == "Requests/sec:":
            r["rps"] = float(s[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            r["non2xx"] = int(s[-1])
        elif s[0] == "Socket" and s[1] == "errors:":
            r["socket_errors"] = sum(int(x.strip(",")) for x in s[3::2])
    return r


def thread_cpu(pid):
    """CPU seconds of each thread of the process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
        except OSError:
            pass  # the thread ended meanwhile
    return out


def thread_roles(pid):
    """Names lookout's threads from what each one waits in while idle: the event loop is the
    main thread; the web server's pool threads all wait on one condition variable (futex words
    a few bytes apart), the largest such group; the accept thread in poll or accept. The store
    thread and any other are "other"."""
    roles = {pid: "loop"}
    futex = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        tid = int(tid)
        if tid == pid:
            continue
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                s = f.read().split()
        except OSError:
            continue
        if s and s[0] == "202":  # futex
            futex[tid] = int(s[1], 16)
        elif s and s[0] in ("7", "23", "43", "270", "271", "288"):  # poll, select, accept, ...
            roles[tid] = "accept"
    groups = defaultdict(list)
    for tid, addr in futex.items():
        groups[addr // 64].append(tid)
    if groups:
        pool = max(groups.values(), key=len)
        if len(pool) >= 8:
            for tid in pool:
                roles[tid] = "web pool"
    return roles


def user_sys(pid):
    """(user, system) CPU seconds of the whole process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def tcp_counters():
    """The kernel's TcpExt counters (all sockets of the machine): a full accept queue drops a
    connection's handshake, and the client retries it hundreds of milliseconds later."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    values = dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))
    return {k: values.get(k, 0) for k in ("ListenOverflows", "TCPSynRetrans")}


def machine_cpu():
    """(busy, total) jiffies of all cores."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def proc_cpu(pid):
    try:
        return lib.cpu_seconds(pid)
    except OSError:
        return 0.0


def metric_sum(text, name, label_prefix=None):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name):]
        if label_prefix is None:
            if rest.startswith(" "):
                total += float(rest.split()[-1])
        elif rest.startswith("{") and f'monitor="{label_prefix}' in rest:
            total += float(rest.rsplit(" ", 1)[1])
    return total


def scrape(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def settled_metrics(port):
    """(metrics, when) once the loop has judged what was queued and published it: the
    heartbeats' runs stop changing."""
    deadline = time.time() + 15
    last = None
    while True:
        time.sleep(0.5)
        text = scrape(port)
        judged = metric_sum(text, "lookout_probe_runs_total", "hb")
        if judged == last or time.time() > deadline:
            return text, time.time()
        last = judged


def status(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/status",
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def run_window(args, port, daemon_pid, nginx_pid, roles, lua, before):
    """`before`: (metrics, when) scraped after the previous window settled. Without `lua`, no
    pings: the http monitors' own cost, which each ping's CPU is counted above."""
    m0, scraped0 = before
    url = f"http://127.0.0.1:{port}/"
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
           "--timeout", "5s", "-s", lua or "", url]
    th0, n0, mc0, us0 = thread_cpu(daemon_pid), proc_cpu(nginx_pid), machine_cpu(), user_sys(daemon_pid)
    tcp0, ru0, t0 = tcp_counters(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    if lua:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 60)
    else:
        time.sleep(args.idle_seconds)
    t1, ru1, tcp1 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN), tcp_counters()
    th1, n1, mc1, us1 = thread_cpu(daemon_pid), proc_cpu(nginx_pid), machine_cpu(), user_sys(daemon_pid)
    if lua and done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    if lua and args.verbose:
        print(done.stdout, file=sys.stderr)
    w = parse_wrk(done.stdout if lua else "")
    m1, scraped1 = settled_metrics(port)
    wall = t1 - t0
    by_role = defaultdict(float)
    for tid, c in th1.items():
        by_role[roles.get(tid, "other")] += c - th0.get(tid, 0.0)
    busy = sorted(((c - th0.get(tid, 0.0), tid) for tid, c in th1.items()), reverse=True)
    b0, _, s0 = lib.parse_lag(m0)
    b1, _, s1 = lib.parse_lag(m1)
    pool = sorted(t for t, r in roles.items() if r == "web pool")
    return {
        **w,
        "judged": metric_sum(m1, "lookout_probe_runs_total", "hb") - metric_sum(m0, "lookout_probe_runs_total", "hb"),
        "failures": metric_sum(m1, "lookout_probe_failures_total", "hb")
        - metric_sum(m0, "lookout_probe_failures_total", "hb"),
        "rows": metric_sum(m1, "lookout_storage_rows_written_total") - metric_sum(m0, "lookout_storage_rows_written_total"),
        "dropped": metric_sum(m1, "lookout_storage_rows_dropped_total")
        - metric_sum(m0, "lookout_storage_rows_dropped_total"),
        "lag_p50_ms": lib.quantile(b0, b1, 0.50) * 1000,
        "lag_p99_ms": lib.quantile(b0, b1, 0.99) * 1000,
        "missed": metric_sum(m1, "lookout_scheduler_missed_slots_total") - metric_sum(m0, "lookout_scheduler_missed_slots_total"),
        "started_per_s": (s1 - s0) / (scraped1 - scraped0),
        "lookout_cpu": sum(by_role.values()) / wall,
        "kernel_share": (us1[1] - us0[1]) / max(1e-9, us1[0] + us1[1] - us0[0] - us0[1]),
        "roles": {k: v / wall for k, v in by_role.items()},
        "pool_busy": sum(1 for t in pool if th1.get(t, 0) > th0.get(t, 0)),
        "pool_size": len(pool),
        "top_threads": [(tid, roles.get(tid, "other"), c / wall) for c, tid in busy[:5]],
        "wrk_cpu": (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / wall,
        "nginx_cpu": (n1 - n0) / wall,
        "tcp": {k: tcp1[k] - tcp0[k] for k in tcp0},
        "idle": 1 - (mc1[0] - mc0[0]) / max(1, mc1[1] - mc0[1]),
        "wall": wall,
        "metrics": (m1, scraped1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=AIM_RATE, help="pings/s of the paced window (0: no paced window)")
    ap.add_argument("--connections", type=int, default=32,
                    help="keep-alive connections (at most the web server's 64 pool threads)")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=20, help="length of each window")
    ap.add_argument("--idle-seconds", type=int, default=5, help="length of the window without pings")
    ap.add_argument("--heartbeats", type=int, default=100)
    ap.add_argument("--monitors", type=int, default=1000, help="http monitors")
    ap.add_argument("--interval", default="10s", help="of the http monitors")
    ap.add_argument("--method", choices=("GET", "POST"), default="GET")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "lookout"))
    ap.add_argument("--verbose", action="store_true", help="also print wrk's own output")
    args = ap.parse_args()
    lib.ensure_packages({"nginx-light": "/usr/sbin/nginx", "wrk": "/usr/bin/wrk"})

    work = tempfile.mkdtemp(prefix="lookout-ping-bench-")
    target_port, listen_port = lib.free_port(), lib.free_port()
    nginx = lib.start_nginx(work, target_port)
    config = write_config(work, args, target_port, listen_port)
    log = os.path.join(work, "lookout.log")
    daemon = subprocess.Popen([args.binary, "run", "-c", config, "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                              env=dict(os.environ, LOOKOUT_BENCH_ADMIN_TOKEN=ADMIN_TOKEN))
    windows = [("idle", None), ("max", 0)] + ([(f"{args.rate}/s", args.rate)] if args.rate else [])
    load_before = os.getloadavg()
    ok = True
    try:
        deadline = time.time() + 60
        while True:
            try:
                scrape(listen_port)
                break
            except OSError:
                if time.time() > deadline or daemon.poll() is not None:
                    raise RuntimeError(f"lookout did not start: {open(log).read()}")
                time.sleep(0.2)
        # Every http monitor has started its schedule, and the web pool's threads are idle.
        time.sleep(float(args.interval.rstrip("s")) + 2)
        roles = thread_roles(daemon.pid)
        results = []
        m = (scrape(listen_port), time.time())
        for name, rate in windows:
            lua = None if rate is None else write_lua(work, args, rate)
            r = run_window(args, listen_port, daemon.pid, nginx.pid, roles, lua, m)
            m = r.pop("metrics")
            results.append((name, r))

        st = status(listen_port)
        hbs = [x for x in st["monitors"] if x["type"] == "heartbeat"]
        up = sum(1 for x in hbs if x["state"] == "up" and x.get("last_ping"))

        interval_s = float(args.interval.rstrip("s"))
        print(f"lookout {args.binary}: {args.monitors} http monitors at {args.interval} (due "
              f"{args.monitors / interval_s:.0f} runs/s), {args.heartbeats} heartbeats; wrk -t{args.wrk_threads} "
              f"-c{args.connections} {args.method} /ping/TOKEN, {args.seconds} s a window; nproc {os.cpu_count()}, "
              f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
        print(f"{'window':>8} {'pings/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'non-2xx':>7} "
              f"{'sock err':>8} {'judged':>8} {'lag p50':>7} {'lag p99':>7} {'missed':>6} {'runs/s':>6} "
              f"{'lookout':>7} {'loop':>5} {'pool':>5} {'other':>5} {'wrk':>5} {'nginx':>5} {'idle':>5}")
        for name, r in results:
            roles_cpu = r["roles"]
            if name == "idle":
                load = f"{'-':>8} {'-':>7} {'-':>7} {'-':>7} {'-':>7} {'-':>8}"
            else:
                load = (f"{r['rps']:>8.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['max_ms']:>7.1f} "
                        f"{r['non2xx']:>7} {r['socket_errors']:>8}")
            print(f"{name:>8} {load} {r['judged']:>8.0f} {r['lag_p50_ms']:>7.2f} "
                  f"{r['lag_p99_ms']:>7.2f} {r['missed']:>6.0f} {r['started_per_s']:>6.1f} "
                  f"{r['lookout_cpu']:>7.0%} {roles_cpu.get('loop', 0):>5.0%} {roles_cpu.get('web pool', 0):>5.0%} "
                  f"{roles_cpu.get('other', 0) + roles_cpu.get('accept', 0):>5.0%} {r['wrk_cpu']:>5.0%} "
                  f"{r['nginx_cpu']:>5.0%} {r['idle']:>5.0%}")
        print("(latency and pings/s: wrk's; lag in ms; CPU as a share of one core, the machine's idle "
              "share of all cores; lookout = loop + pool + other)")
        idle_cpu = results[0][1]["lookout_cpu"]
        for name, r in results[1:]:
            per_ping = (r["lookout_cpu"] - idle_cpu) * r["wall"] / max(1, r["judged"]) * 1e6
            top = ", ".join(f"{role} {share:.0%}" for _, role, share in r["top_threads"])
            print(f"{name}: {r['requests']} answers, {r['judged']:.0f} pings judged ({r['failures']:.0f} not up), "
                  f"{r['rows']:.0f} rows stored ({r['dropped']:.0f} dropped); lookout {per_ping:.0f} us CPU a ping (over idle), "
                  f"{r['kernel_share']:.0%} of its CPU in the kernel; "
                  f"{r['pool_busy']} of {r['pool_size']} pool threads busy; busiest threads: {top}; "
                  f"accept queue overflows {r['tcp']['ListenOverflows']}, SYN retransmits {r['tcp']['TCPSynRetrans']}")
        print(f"heartbeats up with last_ping set: {up} of {len(hbs)}")

        for name, r in results[1:]:
            if r["non2xx"] or r["socket_errors"]:
                print(f"FAIL {name}: {r['non2xx']} answers other than 2xx, {r['socket_errors']} socket errors")
                ok = False
            if r["judged"] < r["requests"] - r["non2xx"]:
                print(f"FAIL {name}: {r['judged']:.0f} pings judged, fewer than the {r['requests'] - r['non2xx']} "
                      "answered 2xx")
                ok = False
        if up != args.heartbeats:
            print(f"FAIL: {up} of {args.heartbeats} heartbeats up with last_ping set")
            ok = False
        # The ceiling must reach the aim; its p99 counts, or else that of a paced window that
        # held a rate at least the aim's (within 1 %: wrk counts its start-up in the seconds).
        by_name = dict(results)
        ceiling = by_name["max"]
        fast_enough = [n for n, r in results[2:] if args.rate >= AIM_RATE and r["rps"] >= 0.99 * args.rate
                       and r["p99_ms"] < AIM_P99_MS]
        if ceiling["p99_ms"] < AIM_P99_MS:
            fast_enough.insert(0, "max")
        met = ceiling["rps"] >= AIM_RATE and fast_enough
        print(f"aim (>= {AIM_RATE} pings/s with p99 < {AIM_P99_MS:.0f} ms): "
              + (f"met (p99 in window {', '.join(fast_enough)})" if met else "NOT met"))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
