#!/usr/bin/env python3
"""The status page's summaries from PostgreSQL: a throwaway PostgreSQL 15 with its stock settings
on a free port, filled as a roller keeps it for 10,000 monitors probed every 30 s from 3
locations, and lookout-pg-summaries-load keeping their summaries with PgSummaries while each
second's runs come in and the roller's marks move each minute. It reports the time of the first
full read, then the CPU per second of the reading process and of its server process, and the
rows read a second.

Needs postgresql-15 (scripts/install-deps.sh --test installs it) and a build (build/ by
default). As root, the server runs as nobody, since PostgreSQL refuses to run as root.
Benchmarks stay out of CI.

    bench/pg_summaries_bench.py [--build DIR] [--monitors 10000] [--locations 3] [--seconds 60]
"""
import argparse
import os
import subprocess

from pg_results_bench import ROOT, need, throwaway_postgres


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seconds", default="60")
    p.add_argument("--monitors", default="10000")
    p.add_argument("--locations", default="3")
    args = p.parse_args()
    load = os.path.join(args.build, "lookout-pg-summaries-load")
    need(load, "build it with scripts/build.sh")
    with throwaway_postgres("lookout-pg-summaries-bench-") as (dsn, _, _):
        subprocess.run([load, "--dsn", dsn, "--seconds", args.seconds,
                        "--monitors", args.monitors, "--locations", args.locations],
                       check=True)

if __name__ == "__main__":
    main()
