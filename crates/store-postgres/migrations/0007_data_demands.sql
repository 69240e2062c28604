-- CAT-7, SHR-7: a department's demands for data, the source's answer within 5
-- working days, and the demand list they make.
CREATE TABLE data_demands (
    id TEXT PRIMARY KEY,
    requester_org_id TEXT NOT NULL REFERENCES organizations(id),
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    title TEXT NOT NULL,
    purpose TEXT NOT NULL,
    items TEXT NOT NULL,
    status TEXT NOT NULL,
    entry_id TEXT REFERENCES catalog_entries(id),
    answer TEXT,
    due DATE NOT NULL,
    answered_at TIMESTAMPTZ,
    overdue_since DATE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX data_demands_requester ON data_demands (requester_org_id, created_at);
CREATE INDEX data_demands_source ON data_demands (source_org_id, status);
