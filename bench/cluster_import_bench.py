#!/usr/bin/env python3
"""lookout cluster import of a realistic single-node database: 1,000 http monitors with 3 days
of raw runs every 30 s (the default keep_raw), 3 days of minute rollups, 90 days of hour
rollups and 90 of day rollups, written in SQL into a database whose schema the real lookout
made; then a throwaway PostgreSQL 15 with its stock settings (fsync and synchronous_commit on,
shared_buffers 128MB, on loopback), `lookout cluster init`, and the timed `lookout cluster
import`. It prints the import's own report (rows per table, seconds, rows a second) and the
wall time of the whole command.

Needs postgresql-15 (scripts/install-deps.sh --test installs it) and a build (build/ by
default). As root, the server runs as nobody, since PostgreSQL refuses to run as root.
Benchmarks stay out of CI.

    bench/cluster_import_bench.py [--build DIR] [--monitors 1000] [--raw-days 3]
"""
import argparse
import os
import sqlite3
import subprocess
import time

from pg_results_bench import ROOT, need, throwaway_postgres

NOW_MS = 1_765_000_800_000 + 90 * 86_400_000  # a whole hour, UTC


def make_single_node(lookout, work, monitors, raw_days):
    """The schema from the real lookout (ping-url opens and migrates the database), the rows
    from SQL: what a single node keeps after running that long."""
    path = os.path.join(work, "single.db")
    config = os.path.join(work, "single.toml")
    with open(config, "w") as f:
        f.write(f'[storage]\npath = "{path}"\n'
                '[[monitor]]\nname = "job"\ntype = "heartbeat"\nperiod = "1h"\n')
    subprocess.run([lookout, "ping-url", "job", "-c", config], check=True,
                   stdout=subprocess.DEVNULL)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("WITH RECURSIVE m(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM m WHERE i < ?) "
               "INSERT INTO monitors (id, name) SELECT i, 'svc-' || i FROM m", (monitors,))
    raw_from = NOW_MS - raw_days * 86_400_000
    db.execute(
        "WITH RECURSIVE t(ms) AS (SELECT ? UNION ALL SELECT ms + 30000 FROM t WHERE ms + 30000 < ?) "
        "INSERT INTO results (monitor_id, t_ms, outcome, http_status, total_us, dns_us, "
        "connect_us, tls_us, first_byte_us, kind, cause, maintenance) "
        "SELECT m.id, t.ms + m.id * 29, CASE WHEN (t.ms / 30000 + m.id) % 200 = 0 THEN 2 ELSE 0 END, "
        "200, 40000 + (t.ms / 30000 * 7919 + m.id) % 200000, 1200, 3400, 9000, 30000, NULL, NULL, 0 "
        "FROM t, monitors m ORDER BY t.ms, m.id", (raw_from, NOW_MS))
    for table, size, days in (("rollup_minute", 60_000, raw_days), ("rollup_hour", 3_600_000, 90),
                              ("rollup_day", 86_400_000, 90)):
        db.execute(
            f"WITH RECURSIVE t(ms) AS (SELECT ? UNION ALL SELECT ms + ? FROM t WHERE ms + ? < ?) "
            f"INSERT INTO {table} (monitor_id, t_ms, count, failures, degraded, maintenance, "
            f"min_us, max_us, sum_us, sketch) "
            f"SELECT m.id, t.ms, ? / 30000, 0, 0, 0, 30000, 240000, ? / 30000 * 90000, "
            f"randomblob(48) FROM t, monitors m",
            (NOW_MS - days * 86_400_000, size, size, NOW_MS - size, size, size))
    for key, value in (("rollup_minute_until", NOW_MS - 60_000),
                       ("rollup_hour_until", NOW_MS - 3_600_000),
                       ("rollup_day_until", NOW_MS - 86_400_000)):
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))
    db.commit()
    db.close()
    return path, monitors


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--monitors", type=int, default=1000)
    p.add_argument("--raw-days", type=int, default=3)
    args = p.parse_args()
    lookout = os.path.join(args.build, "lookout")
    need(lookout, "build it with scripts/build.sh")
    with throwaway_postgres("lookout-import-bench-") as (dsn, _, work):
        started = time.monotonic()
        single, monitors = make_single_node(lookout, work, args.monitors, args.raw_days)
        print(f"made {single} ({os.path.getsize(single) / 1e6:.0f} MB) in "
              f"{time.monotonic() - started:.0f} s")
        config = os.path.join(work, "cluster.toml")
        with open(config, "w") as f:
            f.write(f'[storage]\npath = "{work}/spool.db"\n'
                    f'[cluster]\ndsn = "{dsn}"\n'
                    'location = "fra"\n')
            for i in range(1, monitors + 1):
                f.write(f'[[monitor]]\nname = "svc-{i}"\ntype = "http"\n'
                        f'url = "http://127.0.0.1:9/{i}"\n')
        os.chmod(config, 0o600)
        subprocess.run([lookout, "cluster", "init", "-c", config], check=True)
        started = time.monotonic()
        subprocess.run([lookout, "cluster", "import", "--from-sqlite", single, "-c", config],
                       check=True)
        print(f"the command took {time.monotonic() - started:.1f} s")

if __name__ == "__main__":
    main()
