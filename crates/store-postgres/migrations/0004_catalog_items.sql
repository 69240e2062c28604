-- CAT-3, COL-5: every data item of every entry, keyed so that the same datum
-- registered by two departments meets here; and the authority's decisions on
-- which department is the one source of a datum.
CREATE TABLE catalog_items (
    entry_id TEXT NOT NULL REFERENCES catalog_entries(id),
    version TEXT NOT NULL,
    position INTEGER NOT NULL,
    item_key TEXT NOT NULL,
    name TEXT NOT NULL,
    source_org_id TEXT NOT NULL,
    category TEXT NOT NULL,
    link_key BOOLEAN NOT NULL,
    PRIMARY KEY (entry_id, version, position)
);
CREATE INDEX catalog_items_key ON catalog_items (item_key, source_org_id);

CREATE TABLE catalog_item_sources (
    item_key TEXT PRIMARY KEY,
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    note TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL
);
