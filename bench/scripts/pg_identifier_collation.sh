#!/bin/sh
# What declaring an identifier column COLLATE "C" changes for one index build on
# PostgreSQL: ROWS 18-digit IDs in one unlogged table, held twice, once in a column
# under the database's collation and once under "C"; each index is built twice,
# in both orders. psql's \timing prints each build's wall time.
# Figures and their reading: docs/performance.md, "Loading and cross-checking data".
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test sh bench/scripts/pg_identifier_collation.sh
#   ROWS=1000000 DATABASE_URL=… sh bench/scripts/pg_identifier_collation.sh
set -eu
ROWS=${ROWS:-10000000}
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database to use}"
table="collation_bench_$$"
trap 'psql "$DATABASE_URL" -q -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1' EXIT
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL | grep -E "^(Time|--)"
\timing off
CREATE UNLOGGED TABLE $table (d TEXT, c TEXT COLLATE "C");
INSERT INTO $table SELECT x, x FROM (SELECT lpad((abs(hashint8(i)) % 1000000000000000000)::text, 18, '0') AS x
  FROM generate_series(1, $ROWS) i) s;
VACUUM ANALYZE $table;
\echo -- database collation, then "C"
\timing on
CREATE INDEX ${table}_d ON $table (d);
CREATE INDEX ${table}_c ON $table (c);
\timing off
DROP INDEX ${table}_d;
DROP INDEX ${table}_c;
\echo -- "C", then database collation
\timing on
CREATE INDEX ${table}_c ON $table (c);
CREATE INDEX ${table}_d ON $table (d);
SQL
