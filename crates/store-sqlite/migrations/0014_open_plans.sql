-- OPN-8 (HZ 30, HZ 36, XJ 31, JY 26): each public body's yearly open plan, filed with
-- the data authority and reviewed by it, and the year's priority domains the
-- authority publishes. The full record of each is kept as JSON in `body`; the
-- columns beside it are what lists look up by.
CREATE TABLE open_plans (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    year INTEGER NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL,
    CONSTRAINT open_plans_org_year UNIQUE (org_id, year)
);
CREATE INDEX open_plans_year ON open_plans (year, status);

CREATE TABLE open_priorities (
    year INTEGER PRIMARY KEY,
    published_at TEXT NOT NULL,
    body TEXT NOT NULL
);
