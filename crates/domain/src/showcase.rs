//! OPN-10, OPN-11 (JY 29), SUP-8 (XJ 41): what is built on open data, and how much
//! open data is used — the rules of the showcase of applications and of the usage
//! figures by which opening and its effect are evaluated.
use chrono::{Duration, NaiveDate};

use crate::org::labelled_enum;
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// SUP-8: what kind of product was built on open data.
    ShowcaseKind {
        App => "app", "移动应用", "App";
        Website => "website", "网站或服务", "Website or service";
        Research => "research", "研究成果", "Research";
        Report => "report", "报告或新闻作品", "Report or news story";
        Other => "other", "其他", "Other";
    }
}

labelled_enum! {
    /// SUP-8: where a submitted product stands. Anyone submits; the authority
    /// publishes or rejects it, and may later withdraw a published one.
    ShowcaseStatus {
        Pending => "pending", "待审核", "Pending review";
        Published => "published", "已展示", "Published";
        Rejected => "rejected", "未采用", "Rejected";
        Withdrawn => "withdrawn", "已撤下", "Withdrawn";
    }
}

labelled_enum! {
    /// SUP-8: what the authority does with a submitted product.
    ShowcaseAction {
        Publish => "publish", "展示", "Publish";
        Reject => "reject", "不予展示", "Reject";
        Withdraw => "withdraw", "撤下", "Withdraw";
    }
}

impl ShowcaseAction {
    /// Whether the authority must give a reason (the submitter reads it).
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Reject | Self::Withdraw)
    }
}

/// SUP-8: the status after `action` on a product in `status`; None when the action
/// does not apply (a decision is taken once; only a published product is withdrawn).
pub fn after_decision(status: ShowcaseStatus, action: ShowcaseAction) -> Option<ShowcaseStatus> {
    use ShowcaseAction as A;
    use ShowcaseStatus as S;
    match (status, action) {
        (S::Pending, A::Publish) => Some(S::Published),
        (S::Pending, A::Reject) => Some(S::Rejected),
        (S::Published, A::Withdraw) => Some(S::Withdrawn),
        _ => None,
    }
}

/// The most open datasets one product may name.
pub const MAX_SHOWCASE_DATASETS: usize = 20;

/// SUP-8: whether `url` is a web address a visitor can follow: `http://` or
/// `https://`, a host, no spaces or quotes.
pub fn valid_showcase_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && host != "."
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
}

/// OPN-11 (JY 29): the usage window of the figures, in days ending today.
pub const USAGE_WINDOW_DAYS: i64 = 30;

/// The first day of the usage window ending on `today` (in China).
pub fn usage_window_start(today: NaiveDate) -> NaiveDate {
    today - Duration::days(USAGE_WINDOW_DAYS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sup_8_a_product_is_decided_once_and_only_a_published_one_is_withdrawn() {
        use ShowcaseAction as A;
        use ShowcaseStatus as S;
        assert_eq!(after_decision(S::Pending, A::Publish), Some(S::Published));
        assert_eq!(after_decision(S::Pending, A::Reject), Some(S::Rejected));
        assert_eq!(
            after_decision(S::Published, A::Withdraw),
            Some(S::Withdrawn)
        );
        for s in [S::Published, S::Rejected, S::Withdrawn] {
            assert_eq!(after_decision(s, A::Publish), None, "{s}");
            assert_eq!(after_decision(s, A::Reject), None, "{s}");
        }
        assert_eq!(after_decision(S::Pending, A::Withdraw), None);
        assert_eq!(after_decision(S::Rejected, A::Withdraw), None);
        assert!(A::Reject.needs_reason() && A::Withdraw.needs_reason());
        assert!(!A::Publish.needs_reason());
    }

    #[test]
    fn sup_8_only_web_addresses_are_linked() {
        for ok in [
            "https://example.com",
            "http://example.com/app?id=1",
            "https://公交.example.cn/路线",
        ] {
            assert!(valid_showcase_url(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://example.com/\"onmouseover",
            "ftp://example.com",
        ] {
            assert!(!valid_showcase_url(bad), "{bad}");
        }
    }

    #[test]
    fn opn_11_the_usage_window_is_thirty_days_ending_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            usage_window_start(today),
            NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()
        );
        assert_eq!((today - usage_window_start(today)).num_days() + 1, 30);
    }
}
