//! OPN-3, OPN-4 in the demo: developer keys and applications for the demo's
//! conditional datasets, one in each state a reviewer or an applicant meets —
//! awaiting the source, awaiting the authority, awaiting the agreement, in force,
//! refused.
use chrono::NaiveDate;
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode};
use gongshu_domain::open::{PublicAccess, AGREEMENT_VERSION};
use gongshu_domain::permissions::Principal;

use crate::context::{App, Ctx};
use crate::error::{ServiceError, ServiceResult};
use crate::open;
use crate::open_access::{self, NewDeveloperKey, NewOpenApplication, ReviewDecision};

/// A demo key holder as printed by `gongshu demo`.
pub struct DemoKey {
    pub holder: String,
    pub secret: String,
}

fn division() -> ServiceResult<DivisionCode> {
    DivisionCode::parse("830102").map_err(|e| ServiceError::from_id("division", e))
}

/// Seeds the demo's keys and applications; returns the keys to print.
pub async fn seed_applications(app: &App) -> ServiceResult<Vec<DemoKey>> {
    let catalog = open::catalog(app).await?;
    let mut conditional: Vec<_> = catalog
        .datasets
        .iter()
        .filter(|d| d.access() == PublicAccess::ApplicationRequired && d.has_data)
        .collect();
    conditional.sort_by(|a, b| a.code.cmp(&b.code));
    if conditional.is_empty() {
        return Ok(Vec::new());
    }
    let public = Ctx::new(Principal::public("public"), None);
    let birth = NaiveDate::from_ymd_opt(1990, 5, 17).unwrap_or_default();
    let person = CitizenId::synthesize(&division()?, birth, 31)
        .map_err(|e| ServiceError::from_id("identity_number", e))?;
    let company = CreditCode::synthesize('9', '1', &division()?, 2_026_001)
        .map_err(|e| ServiceError::from_id("identity_number", e))?;
    let holders = [
        (
            "林研（云川大学）",
            "natural_person",
            person.as_str().to_string(),
            "linyan@example.edu.cn",
        ),
        (
            "云川数智科技有限公司",
            "legal_person",
            company.as_str().to_string(),
            "0830-5550123",
        ),
    ];
    let mut keys = Vec::new();
    let mut issued = Vec::new();
    for (name, kind, number, contact) in holders {
        let (key, secret) = open_access::issue_key(
            app,
            &public,
            NewDeveloperKey {
                holder_name: name.into(),
                holder_kind: kind.into(),
                identity_number: number,
                contact: contact.into(),
            },
        )
        .await?;
        keys.push(DemoKey {
            holder: name.into(),
            secret,
        });
        issued.push(key);
    }
    // The demo's reviews are the seeding command's own, recorded as `cli`.
    let reviewer = Ctx::cli();
    // (key, dataset, purpose, how far it goes)
    let plan: Vec<(usize, &str, &str, u8)> = conditional
        .iter()
        .take(4)
        .enumerate()
        .flat_map(|(i, d)| match i {
            0 => vec![
                (0, d.code.as_str(), "门诊服务可及性研究", 4),
                (1, d.code.as_str(), "向患者推送商业广告", 9),
            ],
            1 => vec![(0, d.code.as_str(), "城市公共交通规划研究", 3)],
            2 => vec![(1, d.code.as_str(), "区域经济运行分析报告", 2)],
            _ => vec![(0, d.code.as_str(), "住房市场研究", 1)],
        })
        .collect();
    for (holder, code, purpose, stage) in plan {
        let key = &issued[holder];
        let a = open_access::apply(
            app,
            &public,
            key,
            code,
            NewOpenApplication {
                purpose: purpose.into(),
                intended_use: "形成研究报告，结果仅含汇总统计，发布时注明数据来源和获取日期".into(),
            },
        )
        .await?;
        if stage == 1 {
            continue;
        }
        let approve = stage != 9;
        open_access::review(
            app,
            &reviewer,
            &a.id,
            ReviewDecision {
                approve,
                reason: if approve {
                    String::new()
                } else {
                    "用途与开放条件不符：本数据仅限科研用途（HZ 37）".into()
                },
            },
        )
        .await?;
        if stage <= 2 || !approve {
            continue;
        }
        open_access::review(
            app,
            &reviewer,
            &a.id,
            ReviewDecision {
                approve: true,
                reason: String::new(),
            },
        )
        .await?;
        if stage == 4 {
            open_access::accept_agreement(app, &public, key, &a.id, AGREEMENT_VERSION).await?;
        }
    }
    Ok(keys)
}
