-- COL-8 (HZ 17, JY 14, ZY 5): agreements under which the data authority holds
-- social data — bought once for every department (统采共用) or connected under an
-- authorisation — and the catalog entries each one carries. The full record is kept
-- as JSON in `body`. An agreement never changes once recorded, so each covered entry
-- keeps a copy of its term: the egress gate reads one row per agreement over an entry.
CREATE TABLE social_data_agreements (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX social_data_agreements_term ON social_data_agreements (ends_on);

CREATE TABLE social_data_entries (
    entry_id TEXT NOT NULL REFERENCES catalog_entries(id),
    agreement_id TEXT NOT NULL REFERENCES social_data_agreements(id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    opening_allowed BOOLEAN NOT NULL,
    PRIMARY KEY (entry_id, agreement_id)
);

-- COL-8 (HZ 17): the social data services an IT project planned to buy itself
-- (comma-separated kinds); the authority buys them centrally instead.
ALTER TABLE it_projects ADD COLUMN social_data_kinds TEXT;
