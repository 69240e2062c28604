//! SEC-3: default-deny access control. A principal holds grants (permission + scope);
//! every service call asks `authorize` before it acts.
use crate::org::labelled_enum;
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// What a user may be made; roles map to grants below.
    Role {
        PlatformAdmin => "platform_admin", "平台管理员", "Platform administrator";
        AuthorityAdmin => "authority_admin", "主管部门管理员", "Authority administrator";
        OrgAdmin => "org_admin", "单位管理员", "Organisation administrator";
        Auditor => "auditor", "审计员", "Auditor";
        SecurityOfficer => "security_officer", "安全管理员", "Security officer";
        CatalogRegistrar => "catalog_registrar", "目录编报员", "Catalog registrar";
        CatalogReviewer => "catalog_reviewer", "目录审核员", "Catalog reviewer";
        DataAdministrator => "data_administrator", "数据资源管理员", "Data administrator";
        Member => "member", "普通用户", "Member";
    }
}

labelled_enum! {
    /// One thing a principal may do.
    Permission {
        DivisionManage => "division.manage", "管理行政区划", "Manage divisions";
        OrgRead => "org.read", "查看组织", "Read organisations";
        OrgCreate => "org.create", "创建组织", "Create organisations";
        OrgUpdate => "org.update", "修改组织", "Update organisations";
        UserRead => "user.read", "查看用户", "Read users";
        UserManage => "user.manage", "管理用户", "Manage users";
        OfficerFile => "officer.file", "报备责任人", "File officers";
        ProcessorAuthorize => "processor.authorize", "委托第三方处理", "Authorise processors";
        ProcessorFile => "processor.file", "第三方委托备案", "File processor authorisations";
        TokenManage => "token.manage", "管理接口令牌", "Manage API tokens";
        AuditRead => "audit.read", "查看审计日志", "Read the audit trail";
        AuditVerify => "audit.verify", "校验审计链", "Verify the audit chain";
        CatalogRead => "catalog.read", "查看资源目录", "Read the catalog";
        CatalogRegister => "catalog.register", "编报资源目录", "Register catalog entries";
        CatalogReview => "catalog.review", "部门审核资源目录", "Review catalog entries in the department";
        CatalogApprove => "catalog.approve", "主管部门审核资源目录", "Approve catalog entries as the authority";
        CatalogOffline => "catalog.offline", "下架资源目录", "Take catalog entries offline";
        DataLoad => "data.load", "归集数据", "Deliver and load data";
        DataQuality => "data.quality", "查看数据质量", "Read data quality";
        DataGovern => "data.govern", "数据治理（基础库、多源校核）", "Govern data (base databases, cross-checks)";
        ShareRequest => "share.request", "申请共享数据", "Request shared data";
        ShareCheck => "share.check", "共享申请符合性审查", "Check share requests for conformity";
        ShareDecide => "share.decide", "答复共享申请（数源部门）", "Answer share requests as the source";
        ShareCoordinate => "share.coordinate", "协调共享异议与协商备案", "Coordinate share disputes and filings";
        GrantManage => "grant.manage", "暂停、恢复、撤销共享授权", "Suspend, resume and revoke grants";
        AccessRead => "access.read", "查看共享调用记录", "Read sharing access records";
        DataConsume => "data.consume", "调用共享数据", "Consume shared data";
        OpenReview => "open.review", "审核开放申请、处理公众意见（数源部门）", "Review open-data applications and the public's reports as the source";
        OpenCoordinate => "open.coordinate", "会审开放申请（主管部门）", "Concur in open-data applications as the authority";
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Any organisation.
    Global,
    /// Only the principal's own organisation.
    OwnOrg,
}

/// A permission with the scope it holds in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub permission: Permission,
    pub scope: Scope,
}

/// A grant literal, usable in constant tables.
macro_rules! gr {
    ($p:expr, $s:expr) => {
        Grant {
            permission: $p,
            scope: $s,
        }
    };
}

use Permission as P;
use Scope::{Global, OwnOrg};

impl Role {
    /// Roles that reach beyond one organisation: only a global user manager may give them.
    pub fn reaches_beyond_own_org(&self) -> bool {
        matches!(
            self,
            Role::PlatformAdmin | Role::AuthorityAdmin | Role::Auditor
        )
    }

    /// The grants a role carries. Separation of duties (等保三级 三员分立): administrators
    /// read the trail but do not verify the chain; auditors read and verify but change nothing.
    pub fn grants(&self) -> &'static [Grant] {
        match self {
            Role::PlatformAdmin => &[
                gr!(P::DivisionManage, Global),
                gr!(P::OrgRead, Global),
                gr!(P::OrgCreate, Global),
                gr!(P::OrgUpdate, Global),
                gr!(P::UserRead, Global),
                gr!(P::UserManage, Global),
                gr!(P::OfficerFile, Global),
                gr!(P::ProcessorAuthorize, Global),
                gr!(P::ProcessorFile, Global),
                gr!(P::TokenManage, Global),
                gr!(P::AuditRead, Global),
                gr!(P::CatalogRead, Global),
                gr!(P::DataQuality, Global),
                gr!(P::DataGovern, Global),
                gr!(P::ShareCheck, Global),
                gr!(P::AccessRead, Global),
            ],
            Role::AuthorityAdmin => &[
                gr!(P::OrgRead, Global),
                gr!(P::UserRead, Global),
                gr!(P::ProcessorFile, Global),
                gr!(P::OfficerFile, OwnOrg),
                gr!(P::UserManage, OwnOrg),
                gr!(P::TokenManage, OwnOrg),
                gr!(P::AuditRead, OwnOrg),
                gr!(P::CatalogRead, Global),
                gr!(P::CatalogApprove, Global),
                gr!(P::CatalogOffline, Global),
                gr!(P::CatalogRegister, OwnOrg),
                gr!(P::DataQuality, Global),
                gr!(P::DataGovern, Global),
                gr!(P::ShareCoordinate, Global),
                gr!(P::GrantManage, Global),
                gr!(P::AccessRead, Global),
                gr!(P::OpenCoordinate, Global),
            ],
            Role::OrgAdmin => &[
                gr!(P::OrgRead, Global),
                gr!(P::OrgUpdate, OwnOrg),
                gr!(P::UserRead, OwnOrg),
                gr!(P::UserManage, OwnOrg),
                gr!(P::OfficerFile, OwnOrg),
                gr!(P::ProcessorAuthorize, OwnOrg),
                gr!(P::TokenManage, OwnOrg),
                gr!(P::AuditRead, OwnOrg),
                gr!(P::CatalogRead, Global),
                gr!(P::CatalogOffline, OwnOrg),
                gr!(P::DataLoad, OwnOrg),
                gr!(P::DataQuality, OwnOrg),
                gr!(P::ShareRequest, OwnOrg),
                gr!(P::ShareDecide, OwnOrg),
                gr!(P::GrantManage, OwnOrg),
                gr!(P::AccessRead, OwnOrg),
                gr!(P::DataConsume, OwnOrg),
                gr!(P::OpenReview, OwnOrg),
            ],
            Role::Auditor => &[
                gr!(P::OrgRead, Global),
                gr!(P::UserRead, Global),
                gr!(P::AuditRead, Global),
                gr!(P::AuditVerify, Global),
                gr!(P::CatalogRead, Global),
                gr!(P::DataQuality, Global),
                gr!(P::AccessRead, Global),
            ],
            Role::SecurityOfficer => &[
                gr!(P::OrgRead, Global),
                gr!(P::UserRead, OwnOrg),
                gr!(P::TokenManage, OwnOrg),
                gr!(P::AuditRead, OwnOrg),
                gr!(P::CatalogRead, Global),
            ],
            Role::CatalogRegistrar => &[
                gr!(P::OrgRead, Global),
                gr!(P::CatalogRead, Global),
                gr!(P::CatalogRegister, OwnOrg),
            ],
            Role::DataAdministrator => &[
                gr!(P::OrgRead, Global),
                gr!(P::CatalogRead, Global),
                gr!(P::CatalogRegister, OwnOrg),
                gr!(P::DataLoad, OwnOrg),
                gr!(P::DataQuality, OwnOrg),
                gr!(P::ShareRequest, OwnOrg),
                gr!(P::ShareDecide, OwnOrg),
                gr!(P::GrantManage, OwnOrg),
                gr!(P::AccessRead, OwnOrg),
                gr!(P::DataConsume, OwnOrg),
                gr!(P::OpenReview, OwnOrg),
            ],
            Role::CatalogReviewer => &[
                gr!(P::OrgRead, Global),
                gr!(P::CatalogRead, Global),
                gr!(P::CatalogReview, OwnOrg),
                gr!(P::CatalogOffline, OwnOrg),
            ],
            Role::Member => &[gr!(P::OrgRead, Global), gr!(P::CatalogRead, Global)],
        }
    }
}

/// Who is acting, for which organisation, with which grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// `user:<id>`, `token:<id>`, `cli` or `system`.
    pub actor: String,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
    pub org_id: Option<String>,
    pub grants: Vec<Grant>,
}

/// Refusal of an action; carries what was asked so the error can say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission {permission} denied")]
pub struct Denied {
    pub permission: Permission,
    pub target_org: Option<String>,
}

impl Principal {
    /// A user's principal from its roles.
    pub fn for_user(user_id: &str, org_id: &str, roles: &[Role]) -> Self {
        let mut grants: Vec<Grant> = Vec::new();
        for role in roles {
            for grant in role.grants() {
                if !grants.contains(grant) {
                    grants.push(*grant);
                }
            }
        }
        Self {
            actor: format!("user:{user_id}"),
            user_id: Some(user_id.to_string()),
            token_id: None,
            org_id: Some(org_id.to_string()),
            grants,
        }
    }

    /// An API token acts for exactly one organisation: every permission it holds is own-organisation.
    pub fn for_token(token_id: &str, org_id: &str, permissions: &[Permission]) -> Self {
        Self {
            actor: format!("token:{token_id}"),
            user_id: None,
            token_id: Some(token_id.to_string()),
            org_id: Some(org_id.to_string()),
            grants: permissions.iter().map(|p| gr!(*p, OwnOrg)).collect(),
        }
    }

    /// The operator at the command line of the server itself: everything, recorded as `cli`.
    pub fn cli() -> Self {
        Self {
            actor: "cli".into(),
            user_id: None,
            token_id: None,
            org_id: None,
            grants: Permission::ALL.iter().map(|p| gr!(*p, Global)).collect(),
        }
    }

    /// OPN-3: a member of the public — anonymous, or known by a developer key
    /// (`actor`: `public` or `devkey:<id>`). Holds no permission at all.
    pub fn public(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            user_id: None,
            token_id: None,
            org_id: None,
            grants: Vec::new(),
        }
    }

    /// Background work of the platform itself.
    pub fn system() -> Self {
        Self {
            actor: "system".into(),
            ..Self::cli()
        }
    }

    /// Default deny: allowed only by a global grant, or an own-organisation grant on the
    /// principal's organisation. `target_org` None means "not tied to one organisation",
    /// which only a global grant covers.
    pub fn authorize(
        &self,
        permission: Permission,
        target_org: Option<&str>,
    ) -> Result<(), Denied> {
        let allowed = self.grants.iter().any(|grant| {
            grant.permission == permission
                && match grant.scope {
                    Global => true,
                    OwnOrg => target_org.is_some() && target_org == self.org_id.as_deref(),
                }
        });
        if allowed {
            Ok(())
        } else {
            Err(Denied {
                permission,
                target_org: target_org.map(str::to_string),
            })
        }
    }

    /// Whether a permission is held in some scope (to show or hide console actions).
    pub fn holds(&self, permission: Permission) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.permission == permission)
    }

    /// Whether the grant is global.
    pub fn holds_globally(&self, permission: Permission) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.permission == permission && grant.scope == Global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_3_default_deny_without_grant() {
        let member = Principal::for_user("u1", "orgA", &[Role::Member]);
        assert!(member
            .authorize(Permission::UserManage, Some("orgA"))
            .is_err());
        assert!(member.authorize(Permission::OrgRead, None).is_ok());
    }

    #[test]
    fn sec_3_org_admin_acts_only_for_own_org() {
        let admin = Principal::for_user("u1", "orgA", &[Role::OrgAdmin]);
        assert!(admin
            .authorize(Permission::UserManage, Some("orgA"))
            .is_ok());
        assert!(admin
            .authorize(Permission::UserManage, Some("orgB"))
            .is_err());
        assert!(admin.authorize(Permission::UserManage, None).is_err());
    }

    #[test]
    fn sec_3_token_permissions_are_own_org_only() {
        let t = Principal::for_token("t1", "orgA", &[Permission::AuditRead]);
        assert!(t.authorize(Permission::AuditRead, Some("orgA")).is_ok());
        assert!(t.authorize(Permission::AuditRead, Some("orgB")).is_err());
        assert!(t.authorize(Permission::AuditRead, None).is_err());
        assert!(t.authorize(Permission::UserManage, Some("orgA")).is_err());
    }

    #[test]
    fn sec_3_platform_admin_cannot_verify_audit_but_auditor_can() {
        let admin = Principal::for_user("u1", "op", &[Role::PlatformAdmin]);
        let auditor = Principal::for_user("u2", "op", &[Role::Auditor]);
        assert!(admin.authorize(Permission::AuditVerify, None).is_err());
        assert!(auditor.authorize(Permission::AuditVerify, None).is_ok());
        assert!(auditor
            .authorize(Permission::UserManage, Some("op"))
            .is_err());
    }
}
