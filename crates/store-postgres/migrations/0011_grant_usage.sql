-- SHR-8: a grant's quota meter, a running total per day in China kept in the same
-- transaction as the access records it counts, so a call reads one row to check its
-- quota instead of counting the day's records.
CREATE TABLE grant_usage (
    grant_id TEXT NOT NULL REFERENCES share_grants(id),
    day DATE NOT NULL,
    served_calls BIGINT NOT NULL,
    served_rows BIGINT NOT NULL,
    PRIMARY KEY (grant_id, day)
);

INSERT INTO grant_usage (grant_id, day, served_calls, served_rows)
SELECT grant_id, ((at AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date, COUNT(*), COALESCE(SUM(row_count), 0)
FROM access_records
WHERE outcome = 'served' AND grant_id IS NOT NULL
GROUP BY grant_id, ((at AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date;
