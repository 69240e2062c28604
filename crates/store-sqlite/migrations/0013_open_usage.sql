-- OPN-11 (JY 29): how much open data is used — each open dataset's page views, API
-- calls, downloads and rows served per day in China. Reads are counted in the same
-- transaction as their access records, which are purged after their retention
-- period; these running totals stay. No foreign keys: a counter never refuses a read.
CREATE TABLE open_usage (
    resource_id TEXT NOT NULL,
    source_org_id TEXT NOT NULL,
    day TEXT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    api_calls BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    rows_served BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (resource_id, source_org_id, day)
);
CREATE INDEX open_usage_source ON open_usage (source_org_id, day);
CREATE INDEX open_usage_day ON open_usage (day);

-- The public's reads recorded before the counters existed.
INSERT INTO open_usage (resource_id, source_org_id, day, views, api_calls, downloads, rows_served)
SELECT resource_id, source_org_id, date(at, '+8 hours'), 0,
    SUM(CASE WHEN json_extract(body, '$.operation') = 'query' THEN 1 ELSE 0 END),
    SUM(CASE WHEN json_extract(body, '$.operation') = 'download' THEN 1 ELSE 0 END),
    COALESCE(SUM(row_count), 0)
FROM access_records
WHERE outcome = 'served' AND json_extract(body, '$.mode') = 'open'
    AND resource_id IS NOT NULL AND source_org_id IS NOT NULL
GROUP BY resource_id, source_org_id, date(at, '+8 hours');

-- SUP-8 (XJ 41): applications, websites, studies and reports built on open data,
-- submitted by anyone and shown on the portal once the authority publishes them.
-- The full record is kept as JSON in `body`; the datasets each uses are rows of
-- `open_showcase_datasets`, so a dataset's page finds them by index.
CREATE TABLE open_showcase (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    body TEXT NOT NULL
);
CREATE INDEX open_showcase_status ON open_showcase (status, created_at);

CREATE TABLE open_showcase_datasets (
    showcase_id TEXT NOT NULL REFERENCES open_showcase(id),
    resource_id TEXT NOT NULL,
    PRIMARY KEY (showcase_id, resource_id)
);
CREATE INDEX open_showcase_datasets_resource ON open_showcase_datasets (resource_id);
