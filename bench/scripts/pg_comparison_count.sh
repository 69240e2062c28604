#!/bin/sh
# Why GOV-2's comparison keeps correlated subqueries out of its count: ROWS
# subjects in two tables (1% of names differ) and an empty discrepancies table
# with the store's partial index. psql prints the wall time of the count without
# and with a NOT EXISTS over the discrepancies in it, each one's plan (the first
# has a Gather over a Parallel Hash Join; the second none), and the time of the
# list of the first 5,000 differences without and with the NOT EXISTS.
# Figures and their reading: docs/performance.md, "Confirmed differences left out
# inside the comparison".
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test sh bench/scripts/pg_comparison_count.sh
set -eu
ROWS=${ROWS:-3000000}
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database to use}"
schema="comparison_bench_$$"
trap 'psql "$DATABASE_URL" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1' EXIT
differs="CAST(s.name AS TEXT) IS DISTINCT FROM CAST(o.name AS TEXT)"
confirmed="SELECT 1 FROM discrepancies d WHERE d.status = 'confirmed' AND d.attribute = 'name' AND d.other_resource_id = 'r' AND d.subject_key = CAST(o.citizen_id AS TEXT) AND d.source_value = COALESCE(CAST(s.name AS TEXT), '') AND d.other_value = CAST(o.name AS TEXT)"
join="FROM o JOIN s ON s.citizen_id = o.citizen_id WHERE o.name IS NOT NULL"
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL | grep -E "^(Time|--)|Gather|Hash Join|SubPlan"
CREATE SCHEMA $schema; SET search_path = $schema;
CREATE TABLE s (citizen_id text COLLATE "C", name text);
CREATE TABLE o (citizen_id text COLLATE "C", name text);
INSERT INTO s SELECT lpad(i::text, 18, '0'), 'n' || i FROM generate_series(1, $ROWS) i;
INSERT INTO o SELECT lpad(i::text, 18, '0'), CASE WHEN i % 100 = 0 THEN 'x' ELSE 'n' END || i FROM generate_series(1, $ROWS) i;
CREATE UNIQUE INDEX s_key ON s (citizen_id); CREATE UNIQUE INDEX o_key ON o (citizen_id);
CREATE TABLE discrepancies (attribute text, other_resource_id text, subject_key text, source_value text, other_value text, status text);
CREATE INDEX discrepancies_confirmed ON discrepancies (attribute, other_resource_id, subject_key) WHERE status = 'confirmed';
ANALYZE;
\timing on
\echo -- count, as the store runs it
SELECT COUNT(*), SUM(CASE WHEN $differs THEN 1 ELSE 0 END) $join;
\echo -- count with a NOT EXISTS inside
SELECT COUNT(*), SUM(CASE WHEN $differs AND NOT EXISTS ($confirmed) THEN 1 ELSE 0 END) $join;
\echo -- plan of the count
EXPLAIN SELECT COUNT(*), SUM(CASE WHEN $differs THEN 1 ELSE 0 END) $join;
\echo -- plan of the count with a NOT EXISTS inside
EXPLAIN SELECT COUNT(*), SUM(CASE WHEN $differs AND NOT EXISTS ($confirmed) THEN 1 ELSE 0 END) $join;
\echo -- list of the first 5,000 differences
SELECT count(*) FROM (SELECT o.citizen_id $join AND $differs ORDER BY o.citizen_id LIMIT 5000) x;
\echo -- the same list with the NOT EXISTS
SELECT count(*) FROM (SELECT o.citizen_id $join AND $differs AND NOT EXISTS ($confirmed) ORDER BY o.citizen_id LIMIT 5000) x;
SQL
