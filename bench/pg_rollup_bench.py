#!/usr/bin/env python3
"""Rollups on PostgreSQL: a throwaway PostgreSQL 15 with its stock settings (as
bench/pg_results_bench.py starts it) and lookout-pg-rollup-load in it: results of every monitor
made in SQL, rolled up by one PgRoller holding every eval shard, with the CPU of the rolling
process and of the server per raw result rolled, and a 90-day series read before and after. The
default is the contract's scale: 10,000 monitors every 30 s from 3 locations, 10 minutes of
them, and 3 days of one monitor.

Needs postgresql-15 and a build (build/ by default). Benchmarks stay out of CI.

    bench/pg_rollup_bench.py [--build DIR] [--monitors 10000] [--locations 3] [--minutes 10]
                             [--history-days 3]
"""
import argparse
import os
import subprocess

from pg_results_bench import ROOT, need, throwaway_postgres


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--monitors", default="10000")
    p.add_argument("--locations", default="3")
    p.add_argument("--minutes", default="10")
    p.add_argument("--history-days", default="3")
    args = p.parse_args()
    load = os.path.join(args.build, "lookout-pg-rollup-load")
    need(load, "build it with scripts/build.sh")
    with throwaway_postgres("lookout-rollup-bench-") as (dsn, server_pid, _):
        subprocess.run([load, "--dsn", dsn, "--server-pid", server_pid,
                        "--monitors", args.monitors, "--locations", args.locations,
                        "--minutes", args.minutes, "--history-days", args.history_days],
                       check=True)

if __name__ == "__main__":
    main()
