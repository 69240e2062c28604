-- SHR-3 … SHR-9, GOV-5: share requests, the grants they end in, the egress gate's
-- access records and the consumers' use reports. The full record of each is kept
-- as JSON in `body`; the columns beside it are what lists and the gate look up by.
CREATE TABLE share_requests (
    id TEXT PRIMARY KEY,
    requester_org_id TEXT NOT NULL REFERENCES organizations(id),
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    resource_id TEXT NOT NULL,
    status TEXT NOT NULL,
    due DATE,
    overdue_since DATE,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX share_requests_requester ON share_requests (requester_org_id, created_at);
CREATE INDEX share_requests_source ON share_requests (source_org_id, status);
CREATE INDEX share_requests_status ON share_requests (status, due);

CREATE TABLE share_grants (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES share_requests(id),
    consumer_org_id TEXT NOT NULL REFERENCES organizations(id),
    source_org_id TEXT NOT NULL REFERENCES organizations(id),
    resource_id TEXT NOT NULL,
    token_id TEXT,
    status TEXT NOT NULL,
    ends_on DATE NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX share_grants_consumer ON share_grants (consumer_org_id, resource_id);
CREATE INDEX share_grants_source ON share_grants (source_org_id, status);

CREATE TABLE access_records (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    consumer_org_id TEXT,
    source_org_id TEXT,
    grant_id TEXT,
    resource_id TEXT,
    outcome TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX access_records_grant ON access_records (grant_id, at);
CREATE INDEX access_records_source ON access_records (source_org_id, at);
CREATE INDEX access_records_consumer ON access_records (consumer_org_id, at);
CREATE INDEX access_records_at ON access_records (at);

CREATE TABLE usage_reports (
    id TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES share_grants(id),
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX usage_reports_grant ON usage_reports (grant_id, created_at);
