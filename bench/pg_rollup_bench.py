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
import shutil
import subprocess
import sys
import tempfile

from pg_results_bench import PG_BIN, ROOT, as_owner, free_port


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--monitors", default="10000")
    p.add_argument("--locations", default="3")
    p.add_argument("--minutes", default="10")
    p.add_argument("--history-days", default="3")
    args = p.parse_args()
    load = os.path.join(args.build, "lookout-pg-rollup-load")
    if not os.access(load, os.X_OK):
        sys.exit(f"{load} is missing: build it with scripts/build.sh")
    if not os.access(os.path.join(PG_BIN, "initdb"), os.X_OK):
        sys.exit(f"PostgreSQL 15 is not in {PG_BIN}: install postgresql-15")

    work = tempfile.mkdtemp(prefix="lookout-rollup-bench-")
    data = os.path.join(work, "data")
    if os.geteuid() == 0:
        shutil.chown(work, "nobody", "nogroup")
    port = free_port()
    try:
        subprocess.run(as_owner([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "lookout",
                                 "-E", "UTF8", "--locale=C"]),
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-l", f"{work}/server.log", "-w",
                                 "-o", f"-p {port} -k {work} -c listen_addresses=127.0.0.1",
                                 "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "postmaster.pid")) as f:
            server_pid = f.readline().strip()
        dsn = f"host=127.0.0.1 port={port} user=lookout dbname=postgres"
        subprocess.run([load, "--dsn", dsn, "--server-pid", server_pid,
                        "--monitors", args.monitors, "--locations", args.locations,
                        "--minutes", args.minutes, "--history-days", args.history_days],
                       check=True)
    finally:
        subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
