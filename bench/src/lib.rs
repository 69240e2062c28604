//! Side-by-side benchmarks of Gongshu against a ceiling or a peer: the workloads
//! and ceilings the bench targets share, so each figure is reported as a ratio.
//! [`machine`], [`report`] and [`web`] hold what the benchmarks of a running
//! server share.
pub mod machine;
pub mod report;
pub mod web;

use gongshu_domain::audit::{canonical_encoding, AuditDraft};

/// The benchmarks run with the allocator the `gongshu` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use sqlx::QueryBuilder;

/// Rows per multi-row INSERT, as the store's `append_audit` cuts them.
pub const ROWS_PER_STATEMENT: usize = 512;

/// The size of the next INSERT for `remaining` rows, as the store's `append_audit`
/// cuts them: full statements, then powers of two.
pub fn insert_size(remaining: usize) -> usize {
    if remaining >= ROWS_PER_STATEMENT {
        ROWS_PER_STATEMENT
    } else {
        1 << remaining.max(1).ilog2()
    }
}

/// Stands in for a hash in ceiling rows: same length as an SM3 hex digest.
pub const FILLER_HASH: &str = "5e3c0f1d2b4a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

const COLUMNS: &str = "seq, at, actor, actor_user_id, org_id, action, object_type, object_id, \
                       before_summary, after_summary, request_id, prev_hash, hash";

/// Consumer systems (API tokens) calling the sharing API, each acting for one of
/// [`ORGS`] organisations.
pub const CONSUMERS: u64 = 200;
pub const ORGS: u64 = 100;
/// Catalog resources they read.
pub const RESOURCES: u64 = 2_000;

/// GOV-5: a typical high-volume record: rows of a resource read through the egress
/// gate by a consumer system. Synthetic identifiers, deterministic in `i`; indexed
/// columns have the cardinalities of a deployment (a few hundred consumers and
/// organisations, thousands of resources), the request id is unique.
pub fn access_draft(i: u64) -> AuditDraft {
    let mix = |salt: u64| {
        (i ^ salt)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29)
    };
    let id = |kind: u64, n: u64| {
        uuid::Uuid::from_u64_pair(kind, n.wrapping_mul(0xff51_afd7_ed55_8ccd)).to_string()
    };
    let consumer = mix(1) % CONSUMERS;
    let resource = mix(2) % RESOURCES;
    let mut d = AuditDraft::new(
        format!("token:{}", id(1, consumer)),
        "share.rows.read",
        "resource",
    );
    d.org_id = Some(id(2, consumer % ORGS));
    d.object_id = Some(id(3, resource));
    d.after = Some(format!(
        r#"{{"grant":"{}","rows":{},"fields":["name","citizen_id","address"],"masked":true}}"#,
        id(4, consumer * RESOURCES + resource),
        i % 500 + 1
    ));
    d.request_id = Some(id(5, i));
    d
}

/// `n` drafts dealt round-robin to `producers` callers.
pub fn workload(n: usize, producers: usize) -> Vec<Vec<AuditDraft>> {
    let producers = producers.max(1);
    let mut out: Vec<Vec<AuditDraft>> = (0..producers)
        .map(|_| Vec::with_capacity(n / producers + 1))
        .collect();
    for i in 0..n {
        out[i % producers].push(access_draft(i as u64));
    }
    out
}

/// Mean length of the canonical encoding that is hashed, in bytes.
pub fn mean_encoded_len(drafts: &[AuditDraft]) -> usize {
    if drafts.is_empty() {
        return 0;
    }
    drafts
        .iter()
        .map(|d| canonical_encoding(1, d).len())
        .sum::<usize>()
        / drafts.len()
}

macro_rules! plain_insert {
    ($name:ident, $db:ty) => {
        /// The ceiling: inserts the drafts into `table` as plain rows (numbered,
        /// filler hashes, no hashing, no chain lock, no head update), committing
        /// every `batch` rows, with multi-row INSERTs of the store's size.
        pub async fn $name(
            pool: &sqlx::Pool<$db>,
            table: &str,
            drafts: &[AuditDraft],
            batch: usize,
        ) -> Result<(), sqlx::Error> {
            let mut seq = 0i64;
            for txn_rows in drafts.chunks(batch.max(1)) {
                let mut tx = pool.begin().await?;
                let mut rest = txn_rows;
                while !rest.is_empty() {
                    let (chunk, tail) = rest.split_at(insert_size(rest.len()));
                    rest = tail;
                    let mut qb: QueryBuilder<$db> =
                        QueryBuilder::new(format!("INSERT INTO {table} ({COLUMNS}) "));
                    qb.push_values(chunk, |mut b, d| {
                        seq += 1;
                        b.push_bind(seq)
                            .push_bind(d.at)
                            .push_bind(&d.actor)
                            .push_bind(&d.actor_user_id)
                            .push_bind(&d.org_id)
                            .push_bind(&d.action)
                            .push_bind(&d.object_type)
                            .push_bind(&d.object_id)
                            .push_bind(&d.before)
                            .push_bind(&d.after)
                            .push_bind(&d.request_id)
                            .push_bind(FILLER_HASH)
                            .push_bind(FILLER_HASH);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Ok(())
        }
    };
}

plain_insert!(plain_insert_sqlite, sqlx::Sqlite);
plain_insert!(plain_insert_postgres, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_is_dealt_evenly_and_sized_like_an_access_record() {
        let w = workload(10, 3);
        assert_eq!(w.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 3, 3]);
        let all: Vec<AuditDraft> = w.into_iter().flatten().collect();
        let len = mean_encoded_len(&all);
        assert!((250..=450).contains(&len), "{len}");
        assert_eq!(FILLER_HASH.len(), 64);
        assert_eq!(
            [
                insert_size(1300),
                insert_size(276),
                insert_size(20),
                insert_size(1)
            ],
            [512, 256, 16, 1]
        );
    }
}
