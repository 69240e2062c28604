#!/bin/sh
# What keying a dataset table by its position (`_pos` INTEGER PRIMARY KEY, COL-2)
# changes against a table with a separate position index on (`_load`, `_row`):
# the time to build that index, the time to read the whole table in position
# order, a page of 5,000 rows after a cursor, and the space each takes with one
# more index, on (citizen_id, name), as a load's comparison index. The same
# ROWS rows go into both tables, in the sqlite3 shell, with 16 KiB pages.
# Figures and their reading: docs/performance.md, "Loading and cross-checking data".
#   sh bench/scripts/sqlite_position_key.sh            # 10,000,000 rows, ~2 GB in a temp dir
#   ROWS=1000000 ROUNDS=1 sh bench/scripts/sqlite_position_key.sh
set -eu
ROWS=${ROWS:-10000000}
ROUNDS=${ROUNDS:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/t.db"
seconds() {
  # The shell's own CPU seconds (user + system) for the statements on stdin.
  /usr/bin/time -f "%U %S" sqlite3 "$db" 2>&1 >/dev/null | awk '{ printf "%.2f", $1 + $2 }'
}
sqlite3 "$db" >/dev/null <<SQL
PRAGMA page_size=16384;
PRAGMA journal_mode=wal;
CREATE TABLE src (citizen_id TEXT, name TEXT, address TEXT, "_load" BIGINT, "_row" BIGINT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO src SELECT printf('%018d', abs(random()) % 1000000000000000000),
  hex(randomblob(5)), hex(randomblob(20)), 7, i + 1 FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "$ROWS rows; CPU seconds of the sqlite3 shell"
round=1
while [ "$round" -le "$ROUNDS" ]; do
  sqlite3 "$db" "DROP TABLE IF EXISTS indexed; DROP TABLE IF EXISTS keyed; VACUUM;" >/dev/null
  append_indexed=$(seconds <<SQL
CREATE TABLE indexed (citizen_id TEXT, name TEXT, address TEXT,
  "_load" BIGINT NOT NULL, "_row" BIGINT NOT NULL);
INSERT INTO indexed SELECT * FROM src;
SQL
)
  build_index=$(seconds <<SQL
CREATE INDEX indexed_pos ON indexed ("_load", "_row");
SQL
)
  append_keyed=$(seconds <<SQL
CREATE TABLE keyed (citizen_id TEXT, name TEXT, address TEXT,
  "_load" BIGINT NOT NULL, "_row" BIGINT NOT NULL, "_pos" INTEGER PRIMARY KEY);
INSERT INTO keyed SELECT *, ("_load" << 32) | "_row" FROM src;
SQL
)
  read_indexed=$(seconds <<SQL
SELECT count(*), sum(length(address)) FROM (SELECT address FROM indexed
  WHERE ("_load", "_row") > (7, 0) ORDER BY "_load", "_row");
SQL
)
  read_keyed=$(seconds <<SQL
SELECT count(*), sum(length(address)) FROM (SELECT address FROM keyed
  WHERE "_pos" > (7 << 32) ORDER BY "_pos");
SQL
)
  echo "round $round: append ${append_indexed} + position index ${build_index} vs keyed append ${append_keyed};" \
    "read all in position order ${read_indexed} vs ${read_keyed}"
  round=$((round + 1))
done
half=$((ROWS / 2))
sqlite3 "$db" <<SQL
.timer on
SELECT 'page of 5,000 after row $half through the index', count(*) FROM (SELECT address FROM indexed
  WHERE ("_load", "_row") > (7, $half) ORDER BY "_load", "_row" LIMIT 5000);
SELECT 'page of 5,000 after row $half by the key', count(*) FROM (SELECT address FROM keyed
  WHERE "_pos" > (7 << 32) | $half ORDER BY "_pos" LIMIT 5000);
.timer off
CREATE INDEX indexed_cmp ON indexed (citizen_id, name);
CREATE INDEX keyed_cmp ON keyed (citizen_id, name);
SELECT 'MiB', name, sum(pgsize) / 1048576 FROM dbstat WHERE name <> 'src' GROUP BY name ORDER BY name;
SQL
