#!/bin/sh
# Why the SQLite cross-check (GOV-2) is slow: times, in the sqlite3 shell, the same
# join of two ROWS-row tables on a citizen-ID-like key in the orders SQLite can
# walk it, and a keyset page read with both spellings of the cursor.
# Figures and their reading: docs/performance.md, "Loading and cross-checking data".
#   sh bench/scripts/sqlite_join_orders.sh            # 10,000,000 rows, ~2.5 GB in a temp dir
#   ROWS=1000000 sh bench/scripts/sqlite_join_orders.sh
set -eu
ROWS=${ROWS:-10000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/joins.db"
# Keys are unique (they end in the row number) and in no relation to row order.
sqlite3 "$db" <<SQL
PRAGMA journal_mode=wal;
CREATE TABLE s ("_load" INTEGER, "_row" INTEGER, citizen_id TEXT, name TEXT, sex TEXT,
  birth TEXT, division TEXT, employer TEXT, phone TEXT, address TEXT);
CREATE TABLE o ("_load" INTEGER, "_row" INTEGER, citizen_id TEXT, name TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $ROWS)
INSERT INTO s SELECT 1, i, printf('%08d%09dX', (i * 48271) % 99999989, i),
  CASE WHEN i % 100 = 7 THEN '王某' ELSE '王伟' END, '男', '1990-01-01', '830102',
  '91830102MA0000000X', '13800000000', '示范省云川市湖滨路12号' FROM n;
INSERT INTO o SELECT "_load", "_row", citizen_id, '王伟' FROM s;
CREATE UNIQUE INDEX s_k ON s(citizen_id);
CREATE UNIQUE INDEX o_k ON o(citizen_id);
CREATE INDEX s_pos ON s("_load", "_row");
SQL
echo "$ROWS rows in each table; times are the shell's (user = CPU seconds)"
run() {
  echo "-- $1"
  printf 'PRAGMA mmap_size=8000000000;\n.timer on\n%s\n' "$2" | sqlite3 "$db" | grep -v '^[0-9]*$' || true
}
run "linked count: o in row order, s's unique index probed in random key order" \
  "SELECT COUNT(*) FROM o JOIN s ON s.citizen_id = o.citizen_id WHERE o.name IS NOT NULL;"
run "the same with the comparison of names (the store's count pass)" \
  "SELECT COUNT(*), SUM(CASE WHEN CAST(s.name AS TEXT) IS DISTINCT FROM CAST(o.name AS TEXT) THEN 1 ELSE 0 END) FROM o JOIN s ON s.citizen_id = o.citizen_id WHERE o.name IS NOT NULL;"
run "linked count: both unique indexes walked in key order (covering)" \
  "SELECT COUNT(*) FROM o INDEXED BY o_k JOIN s ON s.citizen_id = o.citizen_id WHERE o.citizen_id IS NOT NULL;"
run "comparison of names: o's index in key order, rows fetched by rowid on both sides" \
  "SELECT COUNT(*), SUM(CASE WHEN CAST(s.name AS TEXT) IS DISTINCT FROM CAST(o.name AS TEXT) THEN 1 ELSE 0 END) FROM o INDEXED BY o_k JOIN s ON s.citizen_id = o.citizen_id WHERE o.citizen_id IS NOT NULL AND o.name IS NOT NULL;"
at=$((ROWS * 9 / 10))
run "a 5,000-row page after row $at, cursor as _load > a OR (_load = a AND _row > b)" \
  "SELECT COUNT(*) FROM (SELECT * FROM s WHERE (\"_load\" > 1 OR (\"_load\" = 1 AND \"_row\" > $at)) ORDER BY \"_load\", \"_row\" LIMIT 5000);"
run "the same page, cursor as (_load, _row) > (a, b)" \
  "SELECT COUNT(*) FROM (SELECT * FROM s WHERE (\"_load\", \"_row\") > (1, $at) ORDER BY \"_load\", \"_row\" LIMIT 5000);"
