"""OPN-3, OPN-7: every open dataset's download validates as a Frictionless Data Package.

Usage: validate_packages.py BASE_URL

Checks, with the real `frictionless` client (PyPI):
- the CSV package (zip: datapackage.json + data) of every unconditionally open
  dataset with data;
- for one dataset, the published datapackage.json describing all four files
  (CSV, JSON lines, XLSX, Parquet), read over HTTP.
Exits non-zero if any package is invalid.
"""
import io
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

base = sys.argv[1].rstrip("/")
frictionless = os.path.join(os.path.dirname(sys.executable), "frictionless")


def get(path):
    with urllib.request.urlopen(base + path) as r:
        return r.read()


def validate(target, cwd):
    r = subprocess.run([frictionless, "validate", "--json", target], cwd=cwd,
                       capture_output=True, text=True)
    report = json.loads(r.stdout)
    errors = [e.get("message") for t in report.get("tasks", []) for e in t.get("errors", [])]
    return report["valid"], errors[:3]


codes = []
offset = 0
while True:
    page = json.loads(get(f"/api/v1/open/datasets?open_type=unconditional&limit=100&offset={offset}"))
    codes += [d["code"] for d in page["datasets"] if d["has_data"]]
    offset += 100
    if offset >= page["total"]:
        break
if len(codes) < 10:
    sys.exit(f"expected the demo's open datasets, found {len(codes)}")

invalid = 0
for code in codes:
    bundle = zipfile.ZipFile(io.BytesIO(get(f"/open/datasets/{code}/package-csv.zip")))
    with tempfile.TemporaryDirectory() as tmp:
        bundle.extractall(tmp)
        valid, errors = validate("datapackage.json", tmp)
    if not valid:
        invalid += 1
        print(f"INVALID {code}: {errors}")
print(f"frictionless: {len(codes) - invalid} of {len(codes)} CSV data packages valid")

with tempfile.TemporaryDirectory() as tmp:
    valid, errors = validate(f"{base}/open/datasets/{codes[0]}/datapackage.json", tmp)
print(f"frictionless: {codes[0]} datapackage.json with CSV, JSON lines, XLSX, Parquet: "
      f"{'valid' if valid else errors}")
if invalid or not valid:
    sys.exit(1)
