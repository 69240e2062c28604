-- CAT-2: the day a background job found an authority review overdue, and recorded
-- changes of law or function after which a department must update its catalog
-- within 15 working days (XJ 11, HZ 12).
ALTER TABLE catalog_entries ADD COLUMN overdue_since DATE;

CREATE TABLE catalog_change_records (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    description TEXT NOT NULL,
    basis TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    due DATE NOT NULL,
    completed_at TIMESTAMPTZ,
    completed_note TEXT,
    overdue_since DATE
);
CREATE INDEX catalog_change_records_org ON catalog_change_records (org_id, due);
