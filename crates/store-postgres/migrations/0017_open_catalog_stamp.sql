-- OPN-2, OPN-3, OPN-9: every public read checks that the node's open catalog
-- snapshot is current (`open_catalog_stamp`): the latest change of a catalog entry
-- and of a dataset, and the sum of the datasets' versions. These indexes answer
-- that from a few index pages instead of a scan of both tables.
CREATE INDEX catalog_entries_updated ON catalog_entries (updated_at);
CREATE INDEX datasets_stamp ON datasets (updated_at, version);
