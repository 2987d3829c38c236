#!/usr/bin/env python3
"""The cost of a run per monitor kind, side by side: the real lookout daemon with N monitors of
one kind at one interval against a local nginx (http, tcp) or 127.0.0.1 (ping), measured over a
window as daemon_bench.py measures http: CPU seconds per 1,000 runs (storage included), runs per
second, scheduler lag and peak RSS. Loopback only; stops everything it started.

Most of a run's CPU is the daemon's own (storage, summaries, alerting), the same for every kind,
and one window's figure varies by a fifth from window to window: the kinds are measured in
--rounds interleaved rounds and each column is the median of its rounds.

    bench/kinds_bench.py --monitors 1000 --interval 10s --seconds 30 --rounds 3 [--kinds http tcp ...]

ping needs ICMP sockets: run as root, or with the group in net.ipv4.ping_group_range.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_bench as lib  # noqa: E402  (nginx, the daemon, metrics and /proc helpers)

# The keys of monitor {i} after its name; nginx listens on {port}.
KINDS = {
    "http": lib.HTTP_MONITOR,
    # connected is enough: the cheapest useful tcp check
    "tcp": 'type = "tcp"\nhost = "127.0.0.1"\nport = {port}\n',
    # a line sent and a pattern expected in the reply: a tcp check of a protocol
    "tcp-expect": ('type = "tcp"\nhost = "127.0.0.1"\nport = {port}\n'
                   'send = "HEAD /p{i} HTTP/1.0\\r\\n\\r\\n"\nexpect.regex = "^HTTP/1\\\\.1 200"\n'),
    # one echo per run, so that a run is comparable with one http request
    "ping": 'type = "ping"\nhost = "127.0.0.1"\ncount = 1\n',
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--monitors", type=int, default=1000)
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--seconds", type=int, default=30, help="length of the measured window")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is shown")
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    ap.add_argument("--binary", default=os.path.join(lib.ROOT, "build", "lookout"))
    args = ap.parse_args()
    lib.ensure_nginx()
    print(f"{'kind':>10} {'monitors':>9} {'interval':>8} {'runs/s':>8} {'CPU s/1000':>10} {'CPU share':>9} "
          f"{'lag p50 ms':>10} {'lag p99 ms':>10} {'peak RSS MB':>11}")
    rounds = {kind: [] for kind in args.kinds}
    for _ in range(args.rounds):
        for kind in args.kinds:
            rounds[kind].append(lib.run_one(args.binary, args.monitors, args.interval, args.seconds,
                                            monitor=KINDS[kind]))
    for kind, runs in rounds.items():
        r = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "interval"}
        print(f"{kind:>10} {int(r['monitors']):>9} {args.interval:>8} {r['probes_per_s']:>8.1f} "
              f"{r['cpu_s_per_1000']:>10.3f} {r['cpu_share']:>9.2f} {r['lag_p50_ms']:>10.2f} "
              f"{r['lag_p99_ms']:>10.2f} {r['peak_rss_mb']:>11.1f}", flush=True)
        print(f"{'':>10} CPU s/1000 of each round: "
              + ", ".join(f"{run['cpu_s_per_1000']:.3f}" for run in runs), flush=True)

if __name__ == "__main__":
    sys.exit(main())
