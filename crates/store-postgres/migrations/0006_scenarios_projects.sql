-- CAT-5: scenario catalogs, one bundle of resources for one business scenario.
-- CAT-11: government IT projects, their catalog at approval and their data at acceptance.
CREATE TABLE scenario_bundles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    lead_org_id TEXT NOT NULL REFERENCES organizations(id),
    entry_ids TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE it_projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    approval_ref TEXT NOT NULL,
    entry_ids TEXT NOT NULL,
    approved_at TIMESTAMPTZ NOT NULL,
    acceptance_checked_at TIMESTAMPTZ,
    unmounted_entry_ids TEXT,
    accepted_at TIMESTAMPTZ
);
CREATE INDEX it_projects_org ON it_projects (org_id);
