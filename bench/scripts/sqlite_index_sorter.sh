#!/bin/sh
# How SQLite's sorter builds a load's four indexes (COL-2, GOV-2) with and without
# a helper thread, for several page-cache sizes (the cache also bounds the
# sorter's in-memory run per thread). Times, in the sqlite3 shell, the same four
# CREATE INDEX statements in one transaction on a copy of one ROWS-row table
# with 16 KiB pages, and reports wall seconds and the shell's peak RSS.
# Figures and their reading: docs/performance.md, "Loading and cross-checking data".
#   sh bench/scripts/sqlite_index_sorter.sh            # 10,000,000 rows, ~2 GB in a temp dir
#   ROWS=1000000 ROUNDS=1 sh bench/scripts/sqlite_index_sorter.sh
set -eu
ROWS=${ROWS:-10000000}
ROUNDS=${ROUNDS:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
base="$dir/base.db"
# Random keys, so every index but the position one sorts from scratch.
sqlite3 "$base" >/dev/null <<SQL
PRAGMA page_size=16384;
PRAGMA journal_mode=wal;
CREATE TABLE t (citizen_id TEXT, name TEXT, division TEXT, employer TEXT,
  "_load" BIGINT, "_row" BIGINT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO t SELECT printf('%018d', abs(random()) % 1000000000000000000),
  char(19968 + abs(random()) % 20000, 19968 + abs(random()) % 20000),
  printf('%06d', abs(random()) % 999999),
  printf('91%016d', abs(random()) % 10000000000000000), 2, i FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "$ROWS rows; threads = helper threads, cache in KiB; wall seconds, peak RSS"
round=1
while [ "$round" -le "$ROUNDS" ]; do
  for config in "0 65536" "0 16384" "1 65536" "1 32768" "1 16384" "1 8192" "2 16384"; do
    set -- $config
    cp "$base" "$dir/t.db"
    rm -f "$dir/t.db-wal" "$dir/t.db-shm"
    result=$(/usr/bin/time -f "%e s, %M KiB" sqlite3 "$dir/t.db" 2>&1 >/dev/null <<SQL
PRAGMA journal_mode=wal;
PRAGMA cache_size=-$2;
PRAGMA threads=$1;
PRAGMA wal_autocheckpoint=0;
BEGIN;
CREATE INDEX a ON t("_load", "_row");
CREATE INDEX b ON t(citizen_id, name);
CREATE INDEX c ON t(division);
CREATE INDEX d ON t(employer);
COMMIT;
SQL
)
    echo "round $round, threads $1, cache $2 KiB: $(echo "$result" | tail -1)"
  done
  round=$((round + 1))
done
