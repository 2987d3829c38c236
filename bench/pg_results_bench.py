#!/usr/bin/env python3
"""Results into PostgreSQL: a throwaway PostgreSQL 15 with its stock settings (fsync and
synchronous_commit on, shared_buffers 128MB) on a free port, and lookout-pg-results-load writing
result rows into it at a steady rate through PgResultWriter, one writer and connection per
location on one loop. It reports, over the measured window: results written a second, the CPU
per result of the writing process and of the server (the postmaster and every process under it,
from /proc), the loop's lag, the WAL per result, and the table's and index's size per million
results. The default is the contract's scale: 10,000 monitors every 30 s from 3 locations,
1,000 results a second, for 60 s.

Needs postgresql-15 (scripts/install-deps.sh --test installs it) and a build (build/ by
default). As root, the server runs as nobody, since PostgreSQL refuses to run as root.
Benchmarks stay out of CI.

    bench/pg_results_bench.py [--build DIR] [--rate 1000] [--seconds 60] [--warmup 5]
                              [--monitors 10000] [--locations fra,nyc,sgp]
"""
import argparse
import contextlib
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


def need(program, hint):
    """Exits with what to do when `program` cannot be run."""
    if not os.access(program, os.X_OK):
        sys.exit(f"{program} is missing: {hint}")


@contextlib.contextmanager
def throwaway_postgres(prefix):
    """A PostgreSQL 15 with its stock settings on a free loopback port, in a folder of its own
    (run as nobody when this runs as root, since PostgreSQL refuses root). Yields its DSN, the
    server's pid and the folder; stops the server and removes the folder after."""
    need(os.path.join(PG_BIN, "initdb"), "install postgresql-15")
    work = tempfile.mkdtemp(prefix=prefix)
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
        yield f"host=127.0.0.1 port={port} user=lookout dbname=postgres", server_pid, work
    finally:
        subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rate", default="1000")
    p.add_argument("--seconds", default="60")
    p.add_argument("--warmup", default="5")
    p.add_argument("--monitors", default="10000")
    p.add_argument("--locations", default="fra,nyc,sgp")
    args = p.parse_args()
    load = os.path.join(args.build, "lookout-pg-results-load")
    need(load, "build it with scripts/build.sh")
    with throwaway_postgres("lookout-pg-bench-") as (dsn, server_pid, _):
        subprocess.run([load, "--dsn", dsn, "--server-pid", server_pid, "--rate", args.rate,
                        "--seconds", args.seconds, "--warmup", args.warmup,
                        "--monitors", args.monitors, "--locations", args.locations],
                       check=True)

if __name__ == "__main__":
    main()
