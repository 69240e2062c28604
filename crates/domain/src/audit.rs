//! GOV-5, SEC-3: the audit trail is a hash chain. Each record stores
//! SM3(previous hash ‖ canonical encoding of the record); verification walks the
//! chain and names the first record whose content or link does not hold.
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

/// The link before the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a use case asks to be recorded; the store assigns `seq`, links and hashes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub at: DateTime<Utc>,
    /// Who acted: `user:<id>`, `token:<id>`, `cli` or `system`.
    pub actor: String,
    pub actor_user_id: Option<String>,
    /// The organisation the actor acted for.
    pub org_id: Option<String>,
    /// Stable action code, e.g. `user.create`.
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    /// Summaries as JSON text, exactly as hashed.
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

impl AuditDraft {
    /// A draft stamped now (to the microsecond, so it survives every store's round trip).
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        object_type: impl Into<String>,
    ) -> Self {
        Self {
            at: truncate_to_micros(Utc::now()),
            actor: actor.into(),
            actor_user_id: None,
            org_id: None,
            action: action.into(),
            object_type: object_type.into(),
            object_id: None,
            before: None,
            after: None,
            request_id: None,
        }
    }
}

/// A stored record of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub draft: AuditDraft,
    pub prev_hash: String,
    pub hash: String,
}

/// Drops sub-microsecond precision: PostgreSQL keeps microseconds, so the hash must too.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.nanosecond() % 1_000_000_000;
    t.with_nanosecond(nanos / 1000 * 1000).unwrap_or(t)
}

fn put(out: &mut Vec<u8>, field: Option<&[u8]>) {
    // Length-prefixed fields; u32::MAX marks an absent value so None ≠ Some("").
    match field {
        None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
        Some(bytes) => {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

/// The canonical encoding of one record: version tag, then every field length-prefixed in a fixed order.
pub fn canonical_encoding(seq: i64, d: &AuditDraft) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"gongshu-audit-v1");
    out.extend_from_slice(&seq.to_be_bytes());
    let at = d.at.to_rfc3339_opts(SecondsFormat::Micros, true);
    put(&mut out, Some(at.as_bytes()));
    put(&mut out, Some(d.actor.as_bytes()));
    put(&mut out, d.actor_user_id.as_deref().map(str::as_bytes));
    put(&mut out, d.org_id.as_deref().map(str::as_bytes));
    put(&mut out, Some(d.action.as_bytes()));
    put(&mut out, Some(d.object_type.as_bytes()));
    put(&mut out, d.object_id.as_deref().map(str::as_bytes));
    put(&mut out, d.before.as_deref().map(str::as_bytes));
    put(&mut out, d.after.as_deref().map(str::as_bytes));
    put(&mut out, d.request_id.as_deref().map(str::as_bytes));
    out
}

/// SM3(previous hash ‖ canonical encoding), lower-case hex.
pub fn chain_hash(prev_hash: &str, seq: i64, d: &AuditDraft) -> String {
    let mut h = Sm3::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_encoding(seq, d));
    hex::encode(h.finalize())
}

/// Links a draft after `prev` (seq, hash) into a record.
pub fn link(prev: Option<(i64, &str)>, draft: AuditDraft) -> AuditRecord {
    let (seq, prev_hash) = match prev {
        Some((s, h)) => (s + 1, h.to_string()),
        None => (1, GENESIS_HASH.to_string()),
    };
    let hash = chain_hash(&prev_hash, seq, &draft);
    AuditRecord {
        seq,
        draft,
        prev_hash,
        hash,
    }
}

/// Why the chain does not hold at a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainFault {
    /// The record's content no longer matches its stored hash.
    ContentAltered { seq: i64 },
    /// The record does not link to the hash of the record before it (reordered or a predecessor altered).
    LinkBroken { seq: i64 },
    /// Records are missing before this one (deleted).
    Missing { expected_seq: i64, found_seq: i64 },
    /// The last record is not the chain head the store recorded (records deleted at the end).
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

impl ChainFault {
    /// The sequence number to show the auditor.
    pub fn seq(&self) -> i64 {
        match self {
            ChainFault::ContentAltered { seq } | ChainFault::LinkBroken { seq } => *seq,
            ChainFault::Missing { expected_seq, .. } => *expected_seq,
            ChainFault::HeadMismatch { last_seq, .. } => *last_seq,
        }
    }
    pub fn message_zh(&self) -> String {
        match self {
            ChainFault::ContentAltered { seq } => {
                format!("审计记录 #{seq} 的内容被篡改（哈希不符）")
            }
            ChainFault::LinkBroken { seq } => {
                format!("审计记录 #{seq} 与前一条记录的链接断开（被重排或前一条被改）")
            }
            ChainFault::Missing {
                expected_seq,
                found_seq,
            } => {
                format!("审计记录 #{expected_seq} 起缺失（下一条为 #{found_seq}），记录被删除")
            }
            ChainFault::HeadMismatch { head_seq, last_seq } => {
                format!("审计链头为 #{head_seq}，但最后一条记录为 #{last_seq}：末尾记录被删除或链头被改")
            }
        }
    }
    pub fn message_en(&self) -> String {
        match self {
            ChainFault::ContentAltered { seq } => {
                format!("audit record #{seq}: content altered (hash mismatch)")
            }
            ChainFault::LinkBroken { seq } => {
                format!("audit record #{seq}: link to the previous record broken (reordered, or the previous record altered)")
            }
            ChainFault::Missing {
                expected_seq,
                found_seq,
            } => {
                format!(
                    "audit records missing from #{expected_seq} (next is #{found_seq}): deleted"
                )
            }
            ChainFault::HeadMismatch { head_seq, last_seq } => {
                format!("chain head is #{head_seq} but the last record is #{last_seq}: records deleted at the end or head altered")
            }
        }
    }
}

/// Walks records in `seq` order, one at a time, so a chain of any length verifies in constant memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next record; the first fault found is returned.
    pub fn check(&mut self, r: &AuditRecord) -> Result<(), ChainFault> {
        if r.seq != self.expected_seq {
            if r.seq > self.expected_seq {
                return Err(ChainFault::Missing {
                    expected_seq: self.expected_seq,
                    found_seq: r.seq,
                });
            }
            return Err(ChainFault::LinkBroken { seq: r.seq });
        }
        if chain_hash(&r.prev_hash, r.seq, &r.draft) != r.hash {
            return Err(ChainFault::ContentAltered { seq: r.seq });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainFault::LinkBroken { seq: r.seq });
        }
        self.prev_hash = r.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// After the last record: compares with the head the store keeps.
    pub fn finish(&self, head: Option<(i64, &str)>) -> Result<u64, ChainFault> {
        let last_seq = self.expected_seq - 1;
        match head {
            None if last_seq == 0 => Ok(self.checked),
            None => Err(ChainFault::HeadMismatch {
                head_seq: 0,
                last_seq,
            }),
            Some((head_seq, head_hash)) => {
                if head_seq != last_seq || head_hash != self.prev_hash {
                    Err(ChainFault::HeadMismatch { head_seq, last_seq })
                } else {
                    Ok(self.checked)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let mut d = AuditDraft::new("user:u1", "user.create", "user");
            d.object_id = Some(format!("obj{i}"));
            d.after = Some(format!("{{\"n\":{i}}}"));
            let prev = out.last().map(|r| (r.seq, r.hash.as_str()));
            let r = link(prev, d);
            out.push(r);
        }
        out
    }

    fn verify(records: &[AuditRecord]) -> Result<u64, ChainFault> {
        let mut v = ChainVerifier::new();
        for r in records {
            v.check(r)?;
        }
        let last = records.last().map(|r| (r.seq, r.hash.as_str()));
        v.finish(last)
    }

    #[test]
    fn gov_5_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn gov_5_altered_content_is_named() {
        let mut c = chain(5);
        c[2].draft.action = "user.delete".into();
        assert_eq!(verify(&c), Err(ChainFault::ContentAltered { seq: 3 }));
    }

    #[test]
    fn gov_5_deleted_record_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c),
            Err(ChainFault::Missing {
                expected_seq: 2,
                found_seq: 3
            })
        );
    }

    #[test]
    fn gov_5_reordered_and_renumbered_records_break_the_link() {
        let mut c = chain(5);
        // Swap the contents of #2 and #3, renumber and rehash each so both look self-consistent.
        let (a, b) = (c[1].draft.clone(), c[2].draft.clone());
        c[1].draft = b;
        c[2].draft = a;
        for r in &mut c[1..3] {
            r.hash = chain_hash(&r.prev_hash, r.seq, &r.draft);
        }
        assert_eq!(verify(&c), Err(ChainFault::LinkBroken { seq: 3 }));
    }

    #[test]
    fn gov_5_truncated_tail_is_caught_by_the_head() {
        let c = chain(5);
        let mut v = ChainVerifier::new();
        for r in &c[..4] {
            v.check(r).unwrap();
        }
        assert_eq!(
            v.finish(Some((5, c[4].hash.as_str()))),
            Err(ChainFault::HeadMismatch {
                head_seq: 5,
                last_seq: 4
            })
        );
    }

    #[test]
    fn none_and_empty_encode_differently() {
        let mut a = AuditDraft::new("cli", "x", "y");
        let mut b = a.clone();
        a.before = None;
        b.before = Some(String::new());
        assert_ne!(canonical_encoding(1, &a), canonical_encoding(1, &b));
    }

    #[test]
    fn sm3_matches_the_published_abc_vector() {
        // GB/T 32905-2016 example 1: SM3("abc").
        let mut h = Sm3::new();
        h.update(b"abc");
        assert_eq!(
            hex::encode(h.finalize()),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
