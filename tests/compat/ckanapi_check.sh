#!/usr/bin/env bash
# OPN-2: checks a running portal's CKAN Action API with the real CKAN client,
# `ckanapi` (PyPI), as harvesters and scripts use it: actions by POST and by GET,
# `search datasets` paging, and `dump datasets --all` with several worker processes
# (each worker is a `ckanapi` process calling package_show).
#
# Usage: tests/compat/ckanapi_check.sh BASE_URL
#   e.g. tests/compat/ckanapi_check.sh http://127.0.0.1:8098
# Needs `ckanapi` and `python3` on PATH (python3 -m venv v && v/bin/pip install ckanapi).
# Exits non-zero on the first mismatch.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BASE_URL" >&2
  exit 2
fi
base="${1%/}"
for tool in ckanapi python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is not on PATH (ckanapi: pip install ckanapi)" >&2
    exit 2
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

checked=0
ok() {
  checked=$((checked + 1))
  echo "ok   $*"
}
fail() {
  echo "FAIL $*" >&2
  exit 1
}
# Evaluates a Python expression over the JSON in file $1 (bound to `d`); prints it.
json() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' "$1" "$2"
}

echo "CKAN compatibility of $base with $(ckanapi --version 2>&1 | head -n 1)"

# status_show: the site says which CKAN it follows.
ckanapi action status_show -j -r "$base" >"$tmp/status.json"
version="$(json "$tmp/status.json" 'd["ckan_version"]')"
[ -n "$version" ] || fail "status_show has no ckan_version"
ok "status_show: ckan_version $version"

# package_list: every dataset name.
ckanapi action package_list -j -r "$base" >"$tmp/list.json"
datasets="$(json "$tmp/list.json" 'len(d)')"
[ "$datasets" -gt 0 ] || fail "package_list is empty"
[ "$(json "$tmp/list.json" 'len(set(d)) == len(d)')" = True ] || fail "package_list repeats names"
ok "package_list: $datasets datasets"

# package_search with Chinese words and facets, by POST (ckanapi's default).
ckanapi action package_search q=公交 rows=1000 'facet.field:["groups","organization"]' -j -r "$base" >"$tmp/search.json"
count="$(json "$tmp/search.json" 'd["count"]')"
[ "$count" -gt 0 ] || fail "package_search q=公交 found nothing"
[ "$(json "$tmp/search.json" 'len(d["results"])')" = "$count" ] ||
  fail "package_search q=公交: count $count differs from the results"
python3 - "$tmp/search.json" "$tmp/list.json" <<'EOF' || fail "package_search q=公交 results or facets are wrong"
import json, sys
found = json.load(open(sys.argv[1], encoding="utf-8"))
names = set(json.load(open(sys.argv[2], encoding="utf-8")))
for p in found["results"]:
    assert p["name"] in names, p["name"]
    assert p["resources"] and all(r["url"].startswith("http") for r in p["resources"]), p["name"]
groups = found["search_facets"]["groups"]["items"]
assert sum(i["count"] for i in groups) == found["count"], groups
assert sum(found["facets"]["organization"].values()) == found["count"]
EOF
ok "action package_search q=公交: $count datasets, facets add up"

# The same by GET (-g).
ckanapi action package_search q=公交 rows=1000 -g -j -r "$base" >"$tmp/search-get.json"
[ "$(json "$tmp/search-get.json" 'd["count"]')" = "$count" ] || fail "package_search by GET differs from POST"
ok "action package_search -g (GET): $count datasets"

# A filter query: the first result's group, minus its organization.
group="$(json "$tmp/search.json" 'd["results"][0]["groups"][0]["name"]')"
org="$(json "$tmp/search.json" 'd["results"][0]["owner_org"]')"
ckanapi action package_search "fq=groups:$group -organization:$org metadata_modified:[2000-01-01T00:00:00Z TO *]" rows=1000 -j -r "$base" >"$tmp/fq.json"
python3 - "$tmp/fq.json" "$group" "$org" <<'EOF' || fail "package_search fq=groups:$group -organization:$org is wrong"
import json, sys
found, group, org = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2], sys.argv[3]
assert found["count"] == len(found["results"])
for p in found["results"]:
    assert p["groups"][0]["name"] == group and p["owner_org"] != org, p["name"]
EOF
ok "action package_search fq=groups:$group -organization:… : $(json "$tmp/fq.json" 'd["count"]') datasets"

# search datasets: ckanapi pages package_search by start/rows and writes JSON lines.
ckanapi search datasets q=公交 -r "$base" >"$tmp/search.jsonl"
lines="$(wc -l <"$tmp/search.jsonl" | tr -d ' ')"
[ "$lines" = "$count" ] || fail "search datasets q=公交 wrote $lines lines, package_search counts $count"
ok "search datasets q=公交: $lines lines"
ckanapi search datasets -r "$base" >"$tmp/all.jsonl"
lines="$(wc -l <"$tmp/all.jsonl" | tr -d ' ')"
[ "$lines" = "$datasets" ] || fail "search datasets (all) wrote $lines lines, package_list has $datasets"
ok "search datasets (all): $lines lines"

# dump datasets --all: package_list, then package_show of each name by 3 workers.
ckanapi dump datasets --all -O "$tmp/dump.jsonl" -p 3 -q -r "$base"
lines="$(wc -l <"$tmp/dump.jsonl" | tr -d ' ')"
[ "$lines" = "$datasets" ] || fail "dump datasets --all wrote $lines lines, package_list has $datasets"
python3 - "$tmp/dump.jsonl" "$tmp/list.json" <<'EOF' || fail "dump datasets --all does not match package_list"
import json, sys
dumped = [json.loads(l)["name"] for l in open(sys.argv[1], encoding="utf-8")]
assert dumped == json.load(open(sys.argv[2], encoding="utf-8")), "names or order differ"
EOF
ok "dump datasets --all -p 3: $lines lines, the names of package_list in order"

# datastore_search on a resource with an active datastore.
resource="$(python3 - "$tmp/dump.jsonl" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    for r in json.loads(line)["resources"]:
        if r.get("datastore_active"):
            print(r["id"])
            sys.exit(0)
EOF
)"
[ -n "$resource" ] || fail "no resource has an active datastore"
ckanapi action datastore_search "resource_id=$resource" limit=5 -j -r "$base" >"$tmp/rows.json"
[ "$(json "$tmp/rows.json" 'len(d["records"]) == min(5, d["total"]) and d["fields"][0]["id"] == "_id"')" = True ] ||
  fail "datastore_search resource_id=$resource"
ok "action datastore_search resource_id=$resource: $(json "$tmp/rows.json" 'd["total"]') rows in all"

# An unknown dataset is CKAN's NotFound for the client.
if ckanapi action package_show id=no-such-dataset -r "$base" >/dev/null 2>"$tmp/err.txt"; then
  fail "package_show id=no-such-dataset succeeded"
fi
grep -q "NotFound" "$tmp/err.txt" || fail "package_show of an unknown dataset is not ckanapi's NotFound: $(tail -n 1 "$tmp/err.txt")"
ok "action package_show id=no-such-dataset: NotFound"

echo "all $checked checks passed"
