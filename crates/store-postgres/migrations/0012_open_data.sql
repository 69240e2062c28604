-- OPN-3, OPN-4, OPN-9: the public's developer keys, applications for data open on
-- conditions (with the agreement each ends in), and the public's feedback on open
-- datasets. The full record of each is kept as JSON in `body`; the columns beside
-- it are what lists and the egress gate look up by.
CREATE TABLE open_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE open_applications (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES open_keys(id),
    resource_id TEXT NOT NULL,
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    status TEXT NOT NULL,
    due DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX open_applications_key ON open_applications (key_id, resource_id);
CREATE INDEX open_applications_source ON open_applications (source_org_id, status);

CREATE TABLE open_feedback (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    status TEXT NOT NULL,
    withheld BOOLEAN NOT NULL,
    due DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX open_feedback_resource ON open_feedback (resource_id, created_at);
CREATE INDEX open_feedback_source ON open_feedback (source_org_id, status);
CREATE INDEX open_feedback_withheld ON open_feedback (withheld);
