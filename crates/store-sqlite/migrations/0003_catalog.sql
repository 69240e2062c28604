-- CAT-1 … CAT-6: catalog entries with their published version and their working
-- copy under review, and the history of every review step.
CREATE TABLE catalog_entries (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    owner_org_id TEXT NOT NULL REFERENCES organizations(id),
    category TEXT NOT NULL,
    domain TEXT NOT NULL,
    -- Of the version users see: the published one, else the working copy.
    name TEXT NOT NULL,
    source_org_id TEXT NOT NULL,
    share_type TEXT NOT NULL,
    open_type TEXT NOT NULL,
    published_json TEXT,
    published_version INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,
    offline INTEGER NOT NULL DEFAULT 0,
    offline_reason TEXT,
    offline_at TEXT,
    working_json TEXT,
    stage TEXT,
    registrar_user_id TEXT,
    department_reviewer_user_id TEXT,
    submitted_at TEXT,
    authority_due TEXT,
    return_reason TEXT,
    mounted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX catalog_entries_owner ON catalog_entries (owner_org_id, code);
CREATE INDEX catalog_entries_stage ON catalog_entries (stage, authority_due);

CREATE TABLE catalog_reviews (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES catalog_entries(id),
    action TEXT NOT NULL,
    actor_user_id TEXT,
    actor TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX catalog_reviews_entry ON catalog_reviews (entry_id, at);
