//! COL-7 (XJ 13): each level's platform reports the data its catalog specifies to
//! the next level's platform. A unit that works on a system the upper level built
//! does not report separately: its data is already there.

/// Where one catalog entry stands against what was last reported of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportState<'a> {
    /// 0 while never published.
    pub published_version: i32,
    pub offline: bool,
    /// Its department works on an upper-level system (XJ 13: no separate report).
    pub exempt: bool,
    pub reported_version: i32,
    pub reported_offline: bool,
    /// The load id of the data version now served, if any.
    pub current_load: Option<&'a str>,
    pub reported_load: Option<&'a str>,
    /// COL-6: the department's latest secrecy review found state secrets, so no data
    /// of the entry leaves this node.
    pub withheld: bool,
    /// The department's secrecy review changed since it was last reported.
    pub review_unreported: bool,
}

/// What a report run does with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStep {
    /// Nothing to send.
    Skip(SkipReason),
    /// Send the entry (its content, or that it went offline), then its data version
    /// when `data` is set.
    Send { data: bool },
    /// Tell the upper node to take its copy offline: the entry became exempt after it
    /// was reported, so its data now reaches the upper level through its system.
    Withdraw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    NotPublished,
    Exempt,
    /// Offline, and never reported or already reported offline.
    Offline,
    UpToDate,
}

impl SkipReason {
    pub fn key(self) -> &'static str {
        match self {
            SkipReason::NotPublished => "not_published",
            SkipReason::Exempt => "exempt",
            SkipReason::Offline => "offline",
            SkipReason::UpToDate => "up_to_date",
        }
    }
}

/// Decides what to report of one entry: a published entry whose catalog version or
/// data version moved since the last accepted report; an entry taken offline after it
/// was reported, so the upper level takes its copy offline too.
pub fn report_step(s: &ReportState<'_>) -> ReportStep {
    if s.exempt {
        return if s.reported_version > 0 && !s.reported_offline {
            ReportStep::Withdraw
        } else {
            ReportStep::Skip(SkipReason::Exempt)
        };
    }
    if s.published_version == 0 {
        return ReportStep::Skip(SkipReason::NotPublished);
    }
    if s.offline {
        return if s.reported_version > 0 && !s.reported_offline {
            ReportStep::Send { data: false }
        } else {
            ReportStep::Skip(SkipReason::Offline)
        };
    }
    let data = !s.withheld && s.current_load.is_some() && s.current_load != s.reported_load;
    if data
        || s.reported_version != s.published_version
        || s.reported_offline
        || s.review_unreported
    {
        ReportStep::Send { data }
    } else {
        ReportStep::Skip(SkipReason::UpToDate)
    }
}

/// The upper node's copy of a reported entry before a report arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyBefore {
    pub offline: bool,
    /// The upper level took it offline of its own accord.
    pub offline_here: bool,
    /// The level below had taken the entry offline.
    pub offline_below: bool,
}

/// The copy after the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyAfter {
    pub offline: bool,
    pub offline_here: bool,
}

/// How the upper copy stands after a report whose entry is offline below or not.
/// An offline decision the upper level took itself stands (a report does not bring
/// the copy back); otherwise the copy follows the level below, except that it stays
/// in service while `grants_in_use` share grants of the upper level still rely on
/// it without a successor (SHR-13).
pub fn copy_after_report(
    offline_below: bool,
    copy: Option<CopyBefore>,
    grants_in_use: usize,
) -> CopyAfter {
    let offline_here = copy.is_some_and(|c| c.offline && (c.offline_here || !c.offline_below));
    let held = copy.is_some_and(|c| !c.offline) && offline_below && grants_in_use > 0;
    CopyAfter {
        offline: offline_here || (offline_below && !held),
        offline_here,
    }
}

/// The idempotency key a data version is uploaded under: the same for every retry
/// while the upper node has not stored it for a fault of its own, so a retry whose
/// first try did arrive is not loaded twice; a fresh one for each retry after the
/// upper node failed to store it.
pub fn upload_key(load: &str, failed_uploads: u32) -> String {
    if failed_uploads == 0 {
        format!("upstream:{load}")
    } else {
        format!("upstream:{load}:{failed_uploads}")
    }
}

/// The reporting node's load id an upload key was made for.
pub fn reported_load_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("upstream:")?;
    Some(match rest.rsplit_once(':') {
        Some((load, retry)) if retry.bytes().all(|b| b.is_ascii_digit()) => load,
        _ => rest,
    })
}

/// The nearest division above `division` that runs a platform node: the level a
/// node at `division` reports to. `parent_of` gives a division's parent and whether
/// that parent hosts a node.
pub fn upper_node_of<F>(division: &str, mut parent_of: F) -> Option<String>
where
    F: FnMut(&str) -> Option<(String, bool)>,
{
    let mut current = division.to_string();
    // A division tree is a handful of levels deep; the bound stops a cycle in bad data.
    for _ in 0..16 {
        let (parent, hosts_node) = parent_of(&current)?;
        if hosts_node {
            return Some(parent);
        }
        current = parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ReportState<'static> {
        ReportState {
            published_version: 2,
            offline: false,
            exempt: false,
            reported_version: 2,
            reported_offline: false,
            current_load: Some("load-1"),
            reported_load: Some("load-1"),
            withheld: false,
            review_unreported: false,
        }
    }

    #[test]
    fn col_7_an_entry_reported_as_it_is_is_not_sent_again() {
        assert_eq!(
            report_step(&state()),
            ReportStep::Skip(SkipReason::UpToDate)
        );
    }

    #[test]
    fn col_7_a_new_catalog_version_or_data_version_is_sent() {
        let s = ReportState {
            published_version: 3,
            ..state()
        };
        assert_eq!(report_step(&s), ReportStep::Send { data: false });
        let s = ReportState {
            current_load: Some("load-2"),
            ..state()
        };
        assert_eq!(report_step(&s), ReportStep::Send { data: true });
        let never = ReportState {
            reported_version: 0,
            reported_load: None,
            ..state()
        };
        assert_eq!(report_step(&never), ReportStep::Send { data: true });
        let no_data = ReportState {
            reported_version: 0,
            current_load: None,
            reported_load: None,
            ..state()
        };
        assert_eq!(report_step(&no_data), ReportStep::Send { data: false });
    }

    #[test]
    fn col_7_units_on_an_upper_level_system_do_not_report() {
        let s = ReportState {
            exempt: true,
            reported_version: 0,
            ..state()
        };
        assert_eq!(report_step(&s), ReportStep::Skip(SkipReason::Exempt));
        // Exempted after it was reported: the upper copy is withdrawn once.
        let reported = ReportState {
            exempt: true,
            ..state()
        };
        assert_eq!(report_step(&reported), ReportStep::Withdraw);
        let withdrawn = ReportState {
            reported_offline: true,
            ..reported
        };
        assert_eq!(
            report_step(&withdrawn),
            ReportStep::Skip(SkipReason::Exempt)
        );
    }

    #[test]
    fn col_7_col_6_data_found_secret_stays_below_and_the_finding_goes_up() {
        let new_data = ReportState {
            current_load: Some("load-2"),
            ..state()
        };
        let withheld = ReportState {
            withheld: true,
            review_unreported: true,
            ..new_data
        };
        assert_eq!(report_step(&withheld), ReportStep::Send { data: false });
        let told = ReportState {
            review_unreported: false,
            ..withheld
        };
        assert_eq!(report_step(&told), ReportStep::Skip(SkipReason::UpToDate));
        let cleared_again = ReportState {
            review_unreported: true,
            ..new_data
        };
        assert_eq!(report_step(&cleared_again), ReportStep::Send { data: true });
    }

    #[test]
    fn col_7_drafts_are_not_reported_and_offline_is_reported_once() {
        let draft = ReportState {
            published_version: 0,
            reported_version: 0,
            ..state()
        };
        assert_eq!(
            report_step(&draft),
            ReportStep::Skip(SkipReason::NotPublished)
        );
        let offline = ReportState {
            offline: true,
            ..state()
        };
        assert_eq!(report_step(&offline), ReportStep::Send { data: false });
        let told = ReportState {
            reported_offline: true,
            ..offline
        };
        assert_eq!(report_step(&told), ReportStep::Skip(SkipReason::Offline));
        let never_reported = ReportState {
            reported_version: 0,
            ..offline
        };
        assert_eq!(
            report_step(&never_reported),
            ReportStep::Skip(SkipReason::Offline)
        );
        let back_online = ReportState {
            reported_offline: true,
            ..state()
        };
        assert_eq!(report_step(&back_online), ReportStep::Send { data: false });
    }

    #[test]
    fn col_7_shr_13_the_upper_copy_follows_below_unless_decided_here_or_in_use() {
        let online = CopyBefore {
            offline: false,
            offline_here: false,
            offline_below: false,
        };
        let after = |below, copy, grants| copy_after_report(below, copy, grants);
        let followed = CopyAfter {
            offline: true,
            offline_here: false,
        };
        // A new copy, or an online one, follows the level below.
        assert_eq!(after(true, None, 0), followed);
        assert_eq!(after(true, Some(online), 0), followed);
        assert!(!after(false, Some(online), 0).offline);
        // Grants without a successor keep it in service.
        assert!(!after(true, Some(online), 2).offline);
        // Taken offline here: stays offline whatever comes from below.
        let decided_here = CopyBefore {
            offline: true,
            ..online
        };
        let kept = CopyAfter {
            offline: true,
            offline_here: true,
        };
        assert_eq!(after(false, Some(decided_here), 0), kept);
        let then_offline_below = CopyBefore {
            offline: true,
            offline_here: true,
            offline_below: true,
        };
        assert_eq!(after(false, Some(then_offline_below), 0), kept);
        // Offline because the level below was: back online with it.
        let following = CopyBefore {
            offline: true,
            offline_here: false,
            offline_below: true,
        };
        assert!(!after(false, Some(following), 0).offline);
    }

    #[test]
    fn col_7_an_upload_the_upper_node_failed_to_store_is_retried_under_a_fresh_key() {
        assert_eq!(upload_key("l1", 0), "upstream:l1");
        assert_eq!(upload_key("l1", 0), upload_key("l1", 0));
        assert_ne!(upload_key("l1", 1), upload_key("l1", 0));
        assert_ne!(upload_key("l1", 2), upload_key("l1", 1));
        assert!(upload_key(&"x".repeat(64), u32::MAX).len() <= 128);
        for retries in [0, 1, 12] {
            let key = upload_key("0192-ab", retries);
            assert_eq!(reported_load_of(&key), Some("0192-ab"), "{key}");
        }
        assert_eq!(reported_load_of("push-batch-7"), None);
    }

    #[test]
    fn col_7_a_node_reports_to_the_nearest_level_above_that_runs_one() {
        // 830102 (district, no node) → 830100 (city, node) → 830000 (province, node)
        let tree = |code: &str| match code {
            "830102" => Some(("830100".to_string(), true)),
            "830100" => Some(("830000".to_string(), true)),
            "830199" => Some(("830190".to_string(), false)),
            "830190" => Some(("830000".to_string(), true)),
            _ => None,
        };
        assert_eq!(upper_node_of("830100", tree).as_deref(), Some("830000"));
        assert_eq!(upper_node_of("830102", tree).as_deref(), Some("830100"));
        assert_eq!(upper_node_of("830199", tree).as_deref(), Some("830000"));
        assert_eq!(upper_node_of("830000", tree), None);
    }
}
