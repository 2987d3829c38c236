#!/usr/bin/env python3
"""Starts a local nginx target and the real lookout daemon with N http monitors against it,
lets it settle, then measures over a window: probes per second, CPU seconds per 1,000 probes
(the daemon's process, storage included), scheduler lag p50/p99 (from its own histogram) and
peak RSS. Loopback only; bounded in time; stops everything it started.

    bench/daemon_bench.py --monitors 1000 10000 --interval 10s --seconds 30
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_packages(packages):
    """Installs the Debian packages (name -> a file it provides) that are missing."""
    missing = [name for name, path in packages.items() if not os.path.exists(path)]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def ensure_nginx():
    ensure_packages({"nginx-light": "/usr/sbin/nginx"})


def make_tls(work):
    """A CA and a leaf for 127.0.0.1 signed by it; returns (ca, cert, key) paths."""
    with open(os.path.join(work, "leaf.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    script = (
        "set -e; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
        "-days 2 -subj '/CN=bench CA' 2>/dev/null; "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr "
        "-subj '/CN=127.0.0.1' 2>/dev/null; "
        "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 "
        "-extfile leaf.ext 2>/dev/null")
    subprocess.run(["bash", "-c", script], cwd=work, check=True)
    return os.path.join(work, "ca.pem"), os.path.join(work, "leaf.pem"), os.path.join(work, "leaf.key")


def start_nginx(work, port, tls_port=None, cert=None, key=None):
    """One nginx process (no master), so its CPU time is one /proc entry."""
    conf = os.path.join(work, "nginx.conf")
    tls = ""
    if tls_port:
        tls = f"""
  server {{
    listen 127.0.0.1:{tls_port} ssl backlog=4096 reuseport;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{ return 200 "ok\\n"; }}
  }}"""
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
master_process off;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
  uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096 reuseport;
    location / {{ return 200 "ok\\n"; }}
  }}{tls}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-c", conf, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


HTTP_MONITOR = 'type = "http"\nurl = "{scheme}://127.0.0.1:{port}/p{i}"\n'


def write_config(work, monitors, interval, target_port, listen_port, db_path=None, scheme="http", ca_file=None,
                 defaults="", monitor=HTTP_MONITOR):
    """`monitor`: the keys of monitor number {i} after its name, against {scheme}://127.0.0.1:{port}."""
    path = os.path.join(work, "bench.toml")
    with open(path, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{listen_port}"\ntitle = "bench"\n\n')
        f.write(f'[storage]\npath = "{db_path or work + "/bench.db"}"\n\n')
        f.write('[scheduler]\nmax_in_flight = 2048\nmax_per_host = 2048\n\n')
        f.write(f'[defaults]\ninterval = "{interval}"\ntimeout = "5s"\npublic = true\n')
        if ca_file:
            f.write(f'ca_file = "{ca_file}"\n')
        f.write(defaults + "\n")
        for i in range(monitors):
            f.write(f'[[monitor]]\nname = "m{i}"\n' + monitor.format(i=i, scheme=scheme, port=target_port) + "\n")
    return path


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def parse_lag(text):
    buckets, count, started = [], 0.0, 0.0
    for line in text.splitlines():
        if line.startswith("lookout_scheduler_lag_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
        elif line.startswith("lookout_scheduler_lag_seconds_count"):
            count = float(line.rsplit(" ", 1)[1])
        elif line.startswith("lookout_scheduler_runs_started_total"):
            started = float(line.rsplit(" ", 1)[1])
    return buckets, count, started


def quantile(b0, b1, q):
    """q-quantile of the lag observed between two scrapes of the cumulative histogram."""
    diff = [(le, c1 - c0) for (le, c1), (_, c0) in zip(b1, b0)]
    total = diff[-1][1]
    if total <= 0:
        return 0.0
    rank, prev_le, prev_c = q * total, 0.0, 0.0
    for le, c in diff:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            span = c - prev_c
            return prev_le + (le - prev_le) * ((rank - prev_c) / span if span else 0)
        prev_le, prev_c = le, c
    return prev_le


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_one(binary, monitors, interval, seconds, target=None, defaults="", monitor=HTTP_MONITOR):
    """`target`: (scheme, port, ca_file) of a running server; without it, a plain nginx of its own.
    `defaults`: more lines for the config's [defaults]; `monitor` as for write_config."""
    work = tempfile.mkdtemp(prefix="lookout-bench-")
    listen_port = free_port()
    nginx = None
    if target is None:
        target = ("http", free_port(), None)
        nginx = start_nginx(work, target[1])
    scheme, target_port, ca_file = target
    config = write_config(work, monitors, interval, target_port, listen_port, scheme=scheme, ca_file=ca_file,
                          defaults=defaults, monitor=monitor)
    daemon = subprocess.Popen([binary, "run", "-c", config, "--log-level", "warn"], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "lookout.log"), "w"))
    try:
        deadline = time.time() + 120
        while True:
            try:
                metrics(listen_port)
                break
            except OSError:
                if time.time() > deadline or daemon.poll() is not None:
                    raise RuntimeError(f"lookout did not start: {open(os.path.join(work, 'lookout.log')).read()}")
                time.sleep(0.2)
        interval_s = float(interval.rstrip("s"))
        time.sleep(interval_s + 2)  # every monitor has started its schedule
        m0, c0, t0 = metrics(listen_port), cpu_seconds(daemon.pid), time.time()
        time.sleep(seconds)
        m1, c1, t1 = metrics(listen_port), cpu_seconds(daemon.pid), time.time()
        b0, _, s0 = parse_lag(m0)
        b1, _, s1 = parse_lag(m1)
        probes = s1 - s0
        cpu = c1 - c0
        return {
            "monitors": monitors,
            "interval": interval,
            "probes_per_s": probes / (t1 - t0),
            "cpu_s_per_1000": cpu / probes * 1000 if probes else float("nan"),
            "cpu_share": cpu / (t1 - t0),
            "lag_p50_ms": quantile(b0, b1, 0.50) * 1000,
            "lag_p99_ms": quantile(b0, b1, 0.99) * 1000,
            "peak_rss_mb": peak_rss_mb(daemon.pid),
        }
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        if nginx:
            nginx.terminate()
            nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--monitors", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--seconds", type=int, default=30, help="length of the measured window")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "lookout"))
    args = ap.parse_args()
    ensure_nginx()
    print(f"{'monitors':>9} {'interval':>8} {'probes/s':>9} {'CPU s/1000':>10} {'CPU share':>9} "
          f"{'lag p50 ms':>10} {'lag p99 ms':>10} {'peak RSS MB':>11}")
    for n in args.monitors:
        r = run_one(args.binary, n, args.interval, args.seconds)
        print(f"{r['monitors']:>9} {r['interval']:>8} {r['probes_per_s']:>9.1f} {r['cpu_s_per_1000']:>10.3f} "
              f"{r['cpu_share']:>9.2f} {r['lag_p50_ms']:>10.2f} {r['lag_p99_ms']:>10.2f} {r['peak_rss_mb']:>11.1f}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
