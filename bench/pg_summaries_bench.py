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
import shutil
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_owner(command):
    """The command as the user the server runs as: nobody when this runs as root."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + command


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seconds", default="60")
    p.add_argument("--monitors", default="10000")
    p.add_argument("--locations", default="3")
    args = p.parse_args()
    load = os.path.join(args.build, "lookout-pg-summaries-load")
    if not os.access(load, os.X_OK):
        sys.exit(f"{load} is missing: build it with scripts/build.sh")
    if not os.access(os.path.join(PG_BIN, "initdb"), os.X_OK):
        sys.exit(f"PostgreSQL 15 is not in {PG_BIN}: install postgresql-15")

    work = tempfile.mkdtemp(prefix="lookout-pg-summaries-bench-")
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
        dsn = f"host=127.0.0.1 port={port} user=lookout dbname=postgres"
        subprocess.run([load, "--dsn", dsn, "--seconds", args.seconds,
                        "--monitors", args.monitors, "--locations", args.locations],
                       check=True)
    finally:
        subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
