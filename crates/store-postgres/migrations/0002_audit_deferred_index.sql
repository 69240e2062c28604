-- GOV-5 at volume: appending an audit record writes only audit_log's own rows.
-- The lookup tables below cover the records up to audit_index_mark.upto_seq and
-- are extended in large sorted batches by the node's audit indexer; queries read
-- the records above the mark directly. Every record has exactly one entry in each
-- table (a missing organisation or object id is stored as ''). See
-- docs/performance.md for why.
DROP INDEX audit_log_org;
DROP INDEX audit_log_actor;
DROP INDEX audit_log_action;
DROP INDEX audit_log_object;
DROP INDEX audit_log_at;

CREATE TABLE audit_by_org (
    org_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE TABLE audit_by_actor (
    actor TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (actor, seq)
);
CREATE TABLE audit_by_action (
    -- Byte order, so that an action prefix is a key range whatever the database's collation.
    action TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (action, seq)
);
CREATE TABLE audit_by_object (
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (object_type, object_id, seq)
);
CREATE TABLE audit_by_time (
    at TIMESTAMPTZ NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (at, seq)
);

CREATE TABLE audit_index_mark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    upto_seq BIGINT NOT NULL
);

INSERT INTO audit_by_org (org_id, seq) SELECT COALESCE(org_id, ''), seq FROM audit_log;
INSERT INTO audit_by_actor (actor, seq) SELECT actor, seq FROM audit_log;
INSERT INTO audit_by_action (action, seq) SELECT action, seq FROM audit_log;
INSERT INTO audit_by_object (object_type, object_id, seq) SELECT object_type, COALESCE(object_id, ''), seq FROM audit_log;
INSERT INTO audit_by_time (at, seq) SELECT at, seq FROM audit_log;
INSERT INTO audit_index_mark (id, upto_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log;
