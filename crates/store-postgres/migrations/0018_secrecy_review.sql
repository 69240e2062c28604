-- COL-6 (CZ 33): the providing department's latest secrecy review of a resource's
-- data (JSON: conclusion, items covered, opinion, reviewer, department, time).
-- A load is refused while it is missing, found state secrets, or missed an item.
-- Every review is also in the audit log.
ALTER TABLE datasets ADD COLUMN secrecy_review_json TEXT;
