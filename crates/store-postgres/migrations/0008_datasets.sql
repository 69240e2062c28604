-- COL-1 … COL-4, COL-9, GOV-1 … GOV-3: mounted datasets, their loads (versions),
-- quarantined rows, quality scores, base-database attributes and discrepancies.
-- The rows themselves live in one typed table per version (ds_<code>_v<n>).
CREATE TABLE datasets (
    resource_id TEXT PRIMARY KEY REFERENCES catalog_entries(id),
    org_id TEXT NOT NULL REFERENCES organizations(id),
    policy TEXT NOT NULL,
    schema_json TEXT NOT NULL,
    version BIGINT NOT NULL,
    current_load_id TEXT,
    current_table TEXT,
    previous_table TEXT,
    previous_load_id TEXT,
    row_count BIGINT NOT NULL DEFAULT 0,
    last_loaded_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX datasets_org ON datasets (org_id);

CREATE TABLE dataset_loads (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES catalog_entries(id),
    org_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    mode TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    table_name TEXT NOT NULL,
    file_name TEXT,
    format TEXT,
    encoding TEXT,
    bytes BIGINT NOT NULL DEFAULT 0,
    checksum TEXT,
    idempotency_key TEXT,
    filing_no TEXT,
    filing_note TEXT,
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_accepted BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    tally TEXT,
    quality TEXT,
    error_code TEXT,
    error TEXT,
    loaded_by TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX dataset_loads_resource ON dataset_loads (resource_id, version);
CREATE INDEX dataset_loads_org ON dataset_loads (org_id, started_at);
CREATE UNIQUE INDEX dataset_loads_idempotency ON dataset_loads (resource_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE dataset_rejects (
    load_id TEXT NOT NULL REFERENCES dataset_loads(id),
    row_number BIGINT NOT NULL,
    raw TEXT NOT NULL,
    errors TEXT NOT NULL,
    PRIMARY KEY (load_id, row_number)
);

CREATE TABLE base_attributes (
    base TEXT NOT NULL,
    attribute TEXT NOT NULL,
    label TEXT NOT NULL,
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    resource_id TEXT NOT NULL REFERENCES catalog_entries(id),
    column_name TEXT NOT NULL,
    built_at TIMESTAMPTZ NOT NULL,
    built_by TEXT NOT NULL,
    PRIMARY KEY (base, attribute)
);

CREATE TABLE discrepancies (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    attribute TEXT NOT NULL,
    label TEXT NOT NULL,
    source_org_id TEXT NOT NULL,
    source_resource_id TEXT NOT NULL,
    source_value TEXT NOT NULL,
    other_org_id TEXT NOT NULL,
    other_resource_id TEXT NOT NULL,
    other_value TEXT NOT NULL,
    status TEXT NOT NULL,
    found_at TIMESTAMPTZ NOT NULL,
    due DATE NOT NULL,
    overdue_since DATE,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX discrepancies_open ON discrepancies (subject_key, attribute, other_resource_id)
    WHERE status = 'open';
CREATE INDEX discrepancies_source ON discrepancies (source_org_id, status, due);
