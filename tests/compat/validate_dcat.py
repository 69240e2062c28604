"""OPN-2, OPN-7: the DCAT-AP 3 export validates against the official SHACL shapes.

Usage: validate_dcat.py BASE_URL

With the real `rdflib` and `pyshacl` (PyPI):
- reads /catalog.ttl and /catalog.jsonld page by page (25 datasets a page, following
  hydra:next), and page 1 at the default size;
- checks that both syntaxes say the same (isomorphic graphs, page by page), that
  every dataset appears exactly once across the pages and that the pages count
  hydra:totalItems, that conditional datasets are RESTRICTED with no download URL
  and unconditional ones PUBLIC;
- reads the per-dataset documents of one unconditional and one conditional dataset;
- validates every document with pyshacl against the official DCAT-AP 3.0.1 shapes
  vendored in tests/compat/dcat-ap/dcat-ap-SHACL.ttl (see the README there).
Exits non-zero, with pyshacl's report, if any document does not conform.
"""
import json
import os
import sys
import urllib.request

import pyshacl
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

base = sys.argv[1].rstrip("/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ACCESS = "http://publications.europa.eu/resource/authority/access-right/"
here = os.path.dirname(os.path.abspath(__file__))
failures = []


def fetch(url, content_type):
    if url.startswith("/"):
        url = base + url
    with urllib.request.urlopen(url) as r:
        got = r.headers.get("content-type", "")
        if not got.startswith(content_type):
            failures.append(f"{url}: content type {got!r}, expected {content_type}")
        return r.read()


def parse(url, syntax):
    content_type = {"turtle": "text/turtle", "json-ld": "application/ld+json"}[syntax]
    body = fetch(url, content_type)
    if syntax == "json-ld":
        doc = json.loads(body)
        if "@context" not in doc:
            failures.append(f"{url}: no @context")
    g = Graph()
    g.parse(data=body, format=syntax)
    return g


def pages(first, syntax):
    """Every page of the catalog from `first`, following hydra:next."""
    out, url, seen = [], first, set()
    while url:
        if url in seen or len(out) > 1000:
            sys.exit(f"paging loops at {url}")
        seen.add(url)
        g = parse(url, syntax)
        out.append((url, g))
        nxt = None
        for page in g.subjects(RDF.type, HYDRA.PagedCollection):
            nxt = g.value(page, HYDRA.next) or g.value(page, HYDRA.nextPage)
        url = str(nxt) if nxt else None
    return out


shapes = Graph()
shapes.parse(os.path.join(here, "dcat-ap", "dcat-ap-SHACL.ttl"), format="turtle")


def validate(label, g):
    conforms, _, text = pyshacl.validate(g, shacl_graph=shapes, inference="none",
                                         abort_on_first=False, meta_shacl=False)
    print(f"pyshacl: {label}: {len(g)} triples, {'conforms' if conforms else 'DOES NOT CONFORM'}")
    if not conforms:
        print(text)
        failures.append(f"{label} does not conform to DCAT-AP 3.0.1")


def check_access(g, where):
    for ds in g.subjects(RDF.type, DCAT.Dataset):
        rights = str(g.value(ds, DCTERMS.accessRights))
        downloads = [u for dist in g.objects(ds, DCAT.distribution)
                     for u in g.objects(dist, DCAT.downloadURL)]
        if rights == ACCESS + "RESTRICTED" and downloads:
            failures.append(f"{where}: restricted {ds} has download URLs {downloads}")
        elif rights not in (ACCESS + "RESTRICTED", ACCESS + "PUBLIC"):
            failures.append(f"{where}: {ds} has access rights {rights}")


results = {}
for syntax, ext in (("turtle", "ttl"), ("json-ld", "jsonld")):
    walked = pages(f"/catalog.{ext}?page_size=25", syntax)
    merged, listed = Graph(), []
    total = None
    for url, g in walked:
        merged += g
        for cat in g.subjects(RDF.type, DCAT.Catalog):
            listed += [str(d) for d in g.objects(cat, DCAT.dataset)]
        for page in g.subjects(RDF.type, HYDRA.PagedCollection):
            total = int(g.value(page, HYDRA.totalItems))
    if len(listed) != len(set(listed)):
        failures.append(f"{ext}: a dataset is listed on more than one page")
    if total is None or len(listed) != total:
        failures.append(f"{ext}: {len(listed)} datasets listed, hydra:totalItems {total}")
    described = {str(d) for d in merged.subjects(RDF.type, DCAT.Dataset)}
    if described != set(listed):
        failures.append(f"{ext}: the datasets described are not the datasets listed")
    check_access(merged, ext)
    print(f"{ext}: {len(walked)} pages, {len(listed)} datasets")
    results[ext] = (walked, merged, listed)
    validate(f"/catalog.{ext} (all pages)", merged)
    default_page = parse(f"/catalog.{ext}", syntax)
    validate(f"/catalog.{ext} (page 1 at the default size)", default_page)

(ttl_pages, ttl_graph, ttl_listed), (ld_pages, ld_graph, ld_listed) = results["ttl"], results["jsonld"]
if sorted(ttl_listed) != sorted(ld_listed) or len(ttl_pages) != len(ld_pages):
    failures.append("Turtle and JSON-LD list different datasets")
for (u1, g1), (u2, g2) in zip(ttl_pages, ld_pages):
    # The page nodes differ in their extension only; the rest must match.
    for g in (g1, g2):
        for page in list(g.subjects(RDF.type, HYDRA.PagedCollection)):
            g.remove((page, None, None))
    if not isomorphic(g1, g2):
        failures.append(f"{u1} and {u2} say different things")
if len(ttl_listed) < 10:
    failures.append(f"expected the demo's open datasets, found {len(ttl_listed)}")

def with_distributions(right):
    """Datasets with these access rights that have distributions (rows mounted)."""
    return sorted(str(d) for d in ttl_graph.subjects(DCTERMS.accessRights, URIRef(ACCESS + right))
                  if (d, DCAT.distribution, None) in ttl_graph)


restricted, public = with_distributions("RESTRICTED"), with_distributions("PUBLIC")
if not restricted or not public:
    failures.append(f"expected both PUBLIC ({len(public)}) and RESTRICTED ({len(restricted)}) datasets with data")
for iri in restricted[:1] + public[:1]:
    code = str(ttl_graph.value(URIRef(iri), DCTERMS.identifier))
    one_ttl = parse(f"/open/datasets/{code}/dcat.ttl", "turtle")
    one_ld = parse(f"/open/datasets/{code}/dcat.jsonld", "json-ld")
    if not isomorphic(one_ttl, one_ld):
        failures.append(f"{code}: dcat.ttl and dcat.jsonld say different things")
    if (URIRef(iri), RDF.type, DCAT.Dataset) not in one_ttl:
        failures.append(f"{code}: dcat.ttl does not describe {iri}")
    check_access(one_ttl, code)
    validate(f"/open/datasets/{code}/dcat.ttl", one_ttl)
    validate(f"/open/datasets/{code}/dcat.jsonld", one_ld)

if failures:
    for f in failures:
        print(f"FAIL {f}")
    sys.exit(1)
print("DCAT-AP 3: every document parses and conforms to the DCAT-AP 3.0.1 SHACL shapes")
