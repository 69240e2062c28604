//! COL-6 (CZ 33): data a department delivers to the platform must first pass its
//! own unit's secrecy review (保密审查), must not involve state secrets, and the
//! department that provides it answers for it (谁提供谁负责). A review covers the
//! data items it looked at; an item added to the entry later was never reviewed.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the providing department's secrecy review found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecrecyConclusion {
    /// 不涉及国家秘密，同意汇聚: no state secrets; the data may be aggregated.
    Cleared,
    /// 涉及国家秘密，不得汇聚: the data involves state secrets and stays out.
    StateSecret,
}

impl SecrecyConclusion {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cleared" => Some(Self::Cleared),
            "state_secret" => Some(Self::StateSecret),
            _ => None,
        }
    }

    /// (中文, English)
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Self::Cleared => (
                "不涉及国家秘密，同意汇聚",
                "no state secrets: may be aggregated",
            ),
            Self::StateSecret => (
                "涉及国家秘密，不得汇聚",
                "involves state secrets: may not be aggregated",
            ),
        }
    }
}

/// The latest secrecy review of a resource's data, recorded by its providing department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecrecyReview {
    pub conclusion: SecrecyConclusion,
    /// The column names (data items' code names) the review covered.
    pub items: Vec<String>,
    /// The reviewer's opinion (审查意见).
    pub note: String,
    /// Who recorded the review, and for which department: the one answerable for the data.
    pub reviewed_by: String,
    pub org_id: String,
    pub reviewed_at: DateTime<Utc>,
}

/// Why a resource's data may not be aggregated yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecrecyBlock {
    /// No review was recorded.
    NotReviewed,
    /// The review found state secrets.
    StateSecret,
    /// The entry now has data items the review did not cover.
    ItemsNotReviewed(Vec<String>),
}

impl SecrecyBlock {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotReviewed => "dataset.secrecy_review_required",
            Self::StateSecret => "dataset.secrecy_state_secret",
            Self::ItemsNotReviewed(_) => "dataset.secrecy_review_outdated",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::NotReviewed => {
                "数据汇聚前须经本部门保密审查（COL-6，谁提供谁负责），尚无审查记录".into()
            }
            Self::StateSecret => "保密审查结论为涉及国家秘密，该数据不得汇聚到平台".into(),
            Self::ItemsNotReviewed(items) => format!(
                "信息项 {} 未经保密审查，须重新审查后才能汇聚",
                items.join("、")
            ),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotReviewed => "data is aggregated only after the providing department's secrecy review (COL-6), and none is recorded".into(),
            Self::StateSecret => "the secrecy review found state secrets: this data may not be aggregated".into(),
            Self::ItemsNotReviewed(items) => format!(
                "data items {} were not covered by the secrecy review: review again before aggregating",
                items.join(", ")
            ),
        }
    }
}

/// COL-6: whether data already on the platform is withheld from every reader
/// because its department's latest review found state secrets.
pub fn withholds_data(review: Option<&SecrecyReview>) -> bool {
    review.is_some_and(|r| r.conclusion == SecrecyConclusion::StateSecret)
}

/// COL-6: whether data with these columns may be aggregated under `review`.
pub fn secrecy_clearance(
    review: Option<&SecrecyReview>,
    columns: &[&str],
) -> Result<(), SecrecyBlock> {
    let review = review.ok_or(SecrecyBlock::NotReviewed)?;
    if review.conclusion == SecrecyConclusion::StateSecret {
        return Err(SecrecyBlock::StateSecret);
    }
    let unreviewed: Vec<String> = columns
        .iter()
        .filter(|c| !review.items.iter().any(|i| i == *c))
        .map(|c| c.to_string())
        .collect();
    if unreviewed.is_empty() {
        Ok(())
    } else {
        Err(SecrecyBlock::ItemsNotReviewed(unreviewed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(conclusion: SecrecyConclusion, items: &[&str]) -> SecrecyReview {
        SecrecyReview {
            conclusion,
            items: items.iter().map(|i| i.to_string()).collect(),
            note: String::new(),
            reviewed_by: "u1".into(),
            org_id: "o1".into(),
            reviewed_at: Utc::now(),
        }
    }

    #[test]
    fn col_6_only_a_clearing_review_of_every_item_lets_data_in() {
        let columns = ["citizen_id", "name"];
        assert_eq!(
            secrecy_clearance(None, &columns),
            Err(SecrecyBlock::NotReviewed)
        );
        let secret = review(SecrecyConclusion::StateSecret, &columns);
        assert_eq!(
            secrecy_clearance(Some(&secret), &columns),
            Err(SecrecyBlock::StateSecret)
        );
        let partial = review(SecrecyConclusion::Cleared, &["name", "phone"]);
        assert_eq!(
            secrecy_clearance(Some(&partial), &columns),
            Err(SecrecyBlock::ItemsNotReviewed(vec!["citizen_id".into()]))
        );
        // A review may cover an item the entry no longer has.
        let wider = review(SecrecyConclusion::Cleared, &["name", "citizen_id", "phone"]);
        assert_eq!(secrecy_clearance(Some(&wider), &columns), Ok(()));
    }

    #[test]
    fn secrecy_conclusions_parse_as_they_are_stored() {
        for c in [SecrecyConclusion::Cleared, SecrecyConclusion::StateSecret] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(SecrecyConclusion::parse(json.trim_matches('"')), Some(c));
        }
        assert_eq!(SecrecyConclusion::parse("yes"), None);
    }

    #[test]
    fn col_6_only_a_state_secret_finding_withholds_data_already_aggregated() {
        assert!(!withholds_data(None));
        assert!(!withholds_data(Some(&review(
            SecrecyConclusion::Cleared,
            &[]
        ))));
        assert!(withholds_data(Some(&review(
            SecrecyConclusion::StateSecret,
            &[]
        ))));
    }
}
