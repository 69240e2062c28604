-- GOV-2: a cross-check leaves out the differences the source department confirmed
-- (its value stands) while both values are as answered; it looks them up per
-- subject of one attribute and other resource.
CREATE INDEX discrepancies_confirmed ON discrepancies (attribute, other_resource_id, subject_key)
    WHERE status = 'confirmed';
