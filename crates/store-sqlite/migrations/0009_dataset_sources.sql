-- COL-1: where the platform pulls a resource's data from, on its update schedule.
-- The password or token is stored sealed (SM4-GCM), never in clear.
CREATE TABLE dataset_sources (
    resource_id TEXT PRIMARY KEY REFERENCES catalog_entries(id),
    org_id TEXT NOT NULL REFERENCES organizations(id),
    config TEXT NOT NULL,
    sealed_secret TEXT,
    scheduled BOOLEAN NOT NULL,
    next_pull_at TEXT,
    last_pull_at TEXT,
    last_load_id TEXT,
    last_status TEXT,
    last_error TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX dataset_sources_due ON dataset_sources (scheduled, next_pull_at);
