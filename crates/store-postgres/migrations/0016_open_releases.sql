-- OPN-5, OPN-6 (JY 27–28, XJ 26, HZ 33, HZ 35): releases of data that is not open —
-- each version of a derived dataset made by desensitisation (with its k-anonymity)
-- or on its subjects' consent, the authority's decision, and the derived catalog
-- entry it is published under. The full record of each version is kept as JSON in
-- `body`; the columns beside it are what lists and the refresh job look up by.
CREATE TABLE open_releases (
    id TEXT PRIMARY KEY,
    series_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    source_entry_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    derived_entry_id TEXT,
    status TEXT NOT NULL,
    next_refresh_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX open_releases_org ON open_releases (org_id, created_at);
CREATE INDEX open_releases_series ON open_releases (series_id, version);
CREATE INDEX open_releases_source ON open_releases (source_entry_id);
CREATE INDEX open_releases_status ON open_releases (status, next_refresh_at);
