-- COL-7 (XJ 13): each level's platform reports the catalog's data to the next
-- level's platform. On the reporting node, one row per catalog entry says what was
-- last reported of it (version, data version, outcome) or why it is exempt (its
-- department works on a system the upper level built: no separate report).
CREATE TABLE upstream_reports (
    entry_id TEXT PRIMARY KEY REFERENCES catalog_entries(id),
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL
);

-- COL-7: on the receiving node, one row per entry a lower-level platform reported,
-- keyed by the reporting authority and the entry's code on the lower node.
CREATE TABLE upstream_received (
    reporter_org_id TEXT NOT NULL REFERENCES organizations(id),
    source_code TEXT NOT NULL,
    entry_id TEXT NOT NULL REFERENCES catalog_entries(id),
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (reporter_org_id, source_code)
);
