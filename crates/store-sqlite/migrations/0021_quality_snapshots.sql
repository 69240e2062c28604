-- GOV-1, GOV-3: the quality history. One row per day (China time) per resource and
-- per department, as the day's last measurement left it; scores are the six
-- dimensions as JSON.
CREATE TABLE quality_snapshots (
    scope TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    day DATE NOT NULL,
    org_id TEXT NOT NULL,
    resources BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    scores TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (scope, subject_id, day)
);
