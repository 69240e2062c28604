-- OPN-1 (HZ 31): the authority's proposals to change a published entry's open type,
-- the source department's answers and the government's decisions on disputes.
CREATE TABLE open_type_proposals (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL,
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX open_type_proposals_source ON open_type_proposals (source_org_id, created_at);
CREATE INDEX open_type_proposals_entry ON open_type_proposals (entry_id);
