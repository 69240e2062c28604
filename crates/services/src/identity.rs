//! SEC-3: users, passwords (argon2id), login with lockout, cookie sessions, API tokens.
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::credentials;
use gongshu_domain::permissions::{Permission, Principal, Role};
use gongshu_store::{ApiToken, Change, Session, User};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// SM3 of a secret, hex: sessions and tokens are stored only as this.
pub fn secret_hash(secret: &str) -> String {
    let mut h = Sm3::new();
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// A random secret of `len` alphanumeric characters.
pub fn random_secret(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn hash_password(password: &str) -> ServiceResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| {
            ServiceError::new(
                ErrorKind::Internal,
                "auth.hash_failed",
                "密码处理失败",
                "password hashing failed",
            )
        })
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// SEC-3: length and at least three of lower, upper, digit, other.
pub fn check_password_strength(app: &App, password: &str) -> ServiceResult<()> {
    let min = app.settings.password_min_length;
    if !credentials::password_is_strong(password, min) {
        return Err(ServiceError::invalid(
            "auth.weak_password",
            "password",
            format!("密码至少 {min} 位，并包含大写字母、小写字母、数字、符号中的三类"),
            format!("passwords need at least {min} characters and three of: upper case, lower case, digits, symbols"),
        ));
    }
    Ok(())
}

/// A generated password that meets the strength rule.
pub fn generate_password() -> String {
    loop {
        let p = random_secret(16);
        if credentials::password_is_strong(&p, 16) {
            return p;
        }
    }
}

fn parse_roles(roles: &[String]) -> ServiceResult<Vec<Role>> {
    if roles.is_empty() {
        return Err(ServiceError::invalid(
            "user.no_role",
            "roles",
            "至少指定一个角色",
            "at least one role is required",
        ));
    }
    roles
        .iter()
        .map(|r| {
            Role::parse(r.trim()).ok_or_else(|| {
                let keys: Vec<&str> = Role::ALL.iter().map(|k| k.key()).collect();
                ServiceError::invalid(
                    "user.unknown_role",
                    "roles",
                    format!("未知角色“{r}”，可选：{}", keys.join("、")),
                    format!("unknown role '{r}'; one of: {}", keys.join(", ")),
                )
            })
        })
        .collect()
}

fn check_grantable(ctx: &Ctx, roles: &[Role]) -> ServiceResult<()> {
    if ctx.principal.holds_globally(Permission::UserManage) {
        return Ok(());
    }
    if let Some(role) = roles.iter().find(|r| r.reaches_beyond_own_org()) {
        return Err(ServiceError::new(
            ErrorKind::Denied,
            "user.role_not_grantable",
            format!("单位管理员不能授予“{}”角色", role.label_zh()),
            format!(
                "an organisation administrator cannot grant the role '{}'",
                role.label_en()
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub org_id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    /// Generated (and returned once) when absent.
    #[serde(default)]
    pub password: Option<String>,
}

fn user_summary(u: &User) -> Option<String> {
    summary(&serde_json::json!({
        "username": u.username, "display_name": u.display_name, "org_id": u.org_id,
        "roles": u.roles, "disabled": u.disabled, "locked_until": u.locked_until,
    }))
}

fn check_username(username: &str) -> ServiceResult<String> {
    credentials::normalise_username(username).ok_or_else(|| {
        ServiceError::invalid(
            "user.bad_username",
            "username",
            "用户名须为 3–64 位字母、数字或 . _ -，以字母或数字开头",
            "usernames are 3–64 letters, digits or . _ -, starting with a letter or digit",
        )
    })
}

/// Creates a user of an organisation; returns the password when it was generated.
pub async fn create_user(
    app: &App,
    ctx: &Ctx,
    input: NewUser,
) -> ServiceResult<(User, Option<String>)> {
    ctx.principal
        .authorize(Permission::UserManage, Some(&input.org_id))?;
    let org = app
        .store
        .get_org(&input.org_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("单位", "organisation", &input.org_id))?;
    let username = check_username(&input.username)?;
    let display_name = input.display_name.trim().to_string();
    if display_name.is_empty() {
        return Err(ServiceError::invalid(
            "input.required",
            "display_name",
            "请填写姓名",
            "display name is required",
        ));
    }
    let roles = parse_roles(&input.roles)?;
    check_grantable(ctx, &roles)?;
    let (password, generated) = match input.password.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => {
            check_password_strength(app, p)?;
            (p.to_string(), None)
        }
        None => {
            let p = generate_password();
            (p.clone(), Some(p))
        }
    };
    let now = truncate_to_micros(Utc::now());
    let user = User {
        id: new_id(),
        org_id: org.id.clone(),
        username,
        display_name,
        password_hash: hash_password(&password)?,
        roles: roles.iter().map(|r| r.key().to_string()).collect(),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        password_changed_at: now,
    };
    let mut audit = ctx.audit("user.create", "user", &user.id);
    audit.org_id = Some(org.id);
    audit.after = user_summary(&user);
    app.store
        .commit(vec![Change::InsertUser(user.clone())], vec![audit])
        .await
        .map_err(|e| {
            let e: ServiceError = e.into();
            if e.code == "store.conflict" {
                ServiceError::conflict(
                    "user.duplicate",
                    format!("用户名“{}”已被使用", user.username),
                    format!("username '{}' is taken", user.username),
                )
            } else {
                e
            }
        })?;
    Ok((user, generated))
}

async fn user_row(app: &App, id: &str) -> ServiceResult<User> {
    app.store
        .get_user(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("用户", "user", id))
}

pub async fn find_user_by_username(app: &App, username: &str) -> ServiceResult<User> {
    app.store
        .get_user_by_username(&username.trim().to_lowercase())
        .await?
        .ok_or_else(|| ServiceError::not_found("用户", "user", username))
}

pub async fn get_user(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<User> {
    let u = user_row(app, id).await?;
    ctx.principal
        .authorize(Permission::UserRead, Some(&u.org_id))?;
    Ok(u)
}

/// Sets a new password (given or generated), unlocks the account and ends its sessions.
pub async fn reset_password(
    app: &App,
    ctx: &Ctx,
    user_id: &str,
    password: Option<&str>,
) -> ServiceResult<String> {
    let before = user_row(app, user_id).await?;
    ctx.principal
        .authorize(Permission::UserManage, Some(&before.org_id))?;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) => {
            check_password_strength(app, p)?;
            p.to_string()
        }
        None => generate_password(),
    };
    let mut user = before.clone();
    user.password_hash = hash_password(&password)?;
    user.failed_logins = 0;
    user.locked_until = None;
    user.password_changed_at = truncate_to_micros(Utc::now());
    let mut audit = ctx.audit("user.reset_password", "user", user_id);
    audit.org_id = Some(user.org_id.clone());
    audit.before = user_summary(&before);
    audit.after = user_summary(&user);
    app.store
        .commit(
            vec![
                Change::UpdateUser(user),
                Change::DeleteUserSessions {
                    user_id: user_id.to_string(),
                },
            ],
            vec![audit],
        )
        .await?;
    Ok(password)
}

/// Disables or re-enables a user; disabling ends its sessions at once.
pub async fn set_user_disabled(
    app: &App,
    ctx: &Ctx,
    user_id: &str,
    disabled: bool,
) -> ServiceResult<User> {
    let before = user_row(app, user_id).await?;
    ctx.principal
        .authorize(Permission::UserManage, Some(&before.org_id))?;
    if disabled && ctx.principal.user_id.as_deref() == Some(user_id) {
        return Err(ServiceError::conflict(
            "user.self_disable",
            "不能停用自己的账号",
            "you cannot disable your own account",
        ));
    }
    let mut user = before.clone();
    user.disabled = disabled;
    let mut audit = ctx.audit(
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        "user",
        user_id,
    );
    audit.org_id = Some(user.org_id.clone());
    audit.before = user_summary(&before);
    audit.after = user_summary(&user);
    let mut changes = vec![Change::UpdateUser(user.clone())];
    if disabled {
        changes.push(Change::DeleteUserSessions {
            user_id: user_id.to_string(),
        });
    }
    app.store.commit(changes, vec![audit]).await?;
    Ok(user)
}

/// Users the caller may see: all with a global grant, else those of its own organisation.
pub async fn list_users(app: &App, ctx: &Ctx, org_id: Option<&str>) -> ServiceResult<Vec<User>> {
    match org_id {
        Some(org) => ctx.principal.authorize(Permission::UserRead, Some(org))?,
        None if ctx.principal.holds_globally(Permission::UserRead) => {}
        None => {
            let own = ctx.principal.org_id.clone().unwrap_or_default();
            ctx.principal.authorize(Permission::UserRead, Some(&own))?;
            return Ok(app.store.list_users(Some(&own)).await?);
        }
    }
    Ok(app.store.list_users(org_id).await?)
}

/// The principal of a user, from its roles.
pub fn principal_of(user: &User) -> Principal {
    let roles: Vec<Role> = user.roles.iter().filter_map(|r| Role::parse(r)).collect();
    Principal::for_user(&user.id, &user.org_id, &roles)
}

/// A logged-in session: the cookie secret (never stored) and its record.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub secret: String,
    pub session: Session,
    pub user: User,
}

fn bad_credentials() -> ServiceError {
    ServiceError::unauthenticated(
        "auth.bad_credentials",
        "用户名或密码错误",
        "wrong username or password",
    )
}

/// SEC-3: checks the password; after `login_max_failures` consecutive failures the
/// account locks for `lockout_minutes`. Success and failure are both audited.
pub async fn login(
    app: &App,
    username: &str,
    password: &str,
    request_id: Option<String>,
) -> ServiceResult<LoggedIn> {
    let now = truncate_to_micros(Utc::now());
    let username = username.trim().to_lowercase();
    // Usernames are at most 64 characters; a longer guess is recorded cut short.
    let shown: String = username.chars().take(64).collect();
    let audit_base = |action: &str, object_id: &str| {
        let mut d =
            gongshu_domain::audit::AuditDraft::new(format!("anonymous:{shown}"), action, "user");
        d.object_id = Some(object_id.to_string());
        d.request_id = request_id.clone();
        d
    };
    let Some(user) = app.store.get_user_by_username(&username).await? else {
        // Verify against a dummy hash so an unknown name takes as long as a known one.
        let _ = verify_password(password, dummy_hash());
        app.store
            .commit(vec![], vec![audit_base("auth.login_failed", &shown)])
            .await?;
        return Err(bad_credentials());
    };
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        let mut d = audit_base("auth.login_locked", &user.id);
        d.org_id = Some(user.org_id.clone());
        app.store.commit(vec![], vec![d]).await?;
        return Err(locked_error(until));
    }
    let org_disabled = !org_is_active(app, &user.org_id).await?;
    if !verify_password(password, &user.password_hash) {
        let mut updated = user.clone();
        updated.failed_logins += 1;
        let locks = updated.failed_logins >= app.settings.login_max_failures;
        if locks {
            updated.locked_until = Some(now + Duration::minutes(app.settings.lockout_minutes));
            updated.failed_logins = 0;
        }
        let mut d = audit_base(
            if locks {
                "auth.lockout"
            } else {
                "auth.login_failed"
            },
            &user.id,
        );
        d.org_id = Some(user.org_id.clone());
        d.after = summary(
            &serde_json::json!({"failed_logins": updated.failed_logins, "locked_until": updated.locked_until}),
        );
        app.store
            .commit(vec![Change::UpdateUser(updated.clone())], vec![d])
            .await?;
        return Err(match updated.locked_until {
            Some(until) if locks => locked_error(until),
            _ => bad_credentials(),
        });
    }
    if user.disabled || org_disabled {
        let mut d = audit_base("auth.login_disabled", &user.id);
        d.org_id = Some(user.org_id.clone());
        app.store.commit(vec![], vec![d]).await?;
        return Err(ServiceError::unauthenticated(
            "auth.disabled",
            "账号已停用",
            "this account is disabled",
        ));
    }
    let secret = random_secret(43);
    let session = Session {
        id_hash: secret_hash(&secret),
        user_id: user.id.clone(),
        csrf_token: random_secret(32),
        created_at: now,
        expires_at: now + Duration::hours(app.settings.session_hours),
    };
    let mut updated = user.clone();
    updated.failed_logins = 0;
    updated.locked_until = None;
    let mut d = audit_base("auth.login", &user.id);
    d.actor = format!("user:{}", user.id);
    d.actor_user_id = Some(user.id.clone());
    d.org_id = Some(user.org_id.clone());
    app.store
        .commit(
            vec![
                Change::UpdateUser(updated.clone()),
                Change::InsertSession(session.clone()),
            ],
            vec![d],
        )
        .await?;
    Ok(LoggedIn {
        secret,
        session,
        user: updated,
    })
}

/// A real argon2id hash to verify against when the username is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_secret(16)).unwrap_or_default())
}

fn locked_error(until: DateTime<Utc>) -> ServiceError {
    let t = until
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%d %H:%M");
    ServiceError::new(
        ErrorKind::Locked,
        "auth.locked",
        format!("连续登录失败次数过多，账号已锁定至 {t}（北京时间）"),
        format!("too many failed logins; the account is locked until {t} (UTC+8)"),
    )
}

/// Whether an organisation exists and is not disabled: users and tokens of a
/// disabled organisation are refused (SEC-3).
async fn org_is_active(app: &App, org_id: &str) -> ServiceResult<bool> {
    Ok(app
        .store
        .get_org(org_id)
        .await?
        .is_some_and(|o| !o.disabled))
}

/// Ends a session (logout).
pub async fn logout(app: &App, ctx: &Ctx, secret: &str) -> ServiceResult<()> {
    let id_hash = secret_hash(secret);
    let mut d = ctx.audit("auth.logout", "session", &id_hash[..16]);
    d.org_id = ctx.principal.org_id.clone();
    app.store
        .commit(vec![Change::DeleteSession { id_hash }], vec![d])
        .await?;
    Ok(())
}

/// The user and principal behind a session cookie, if it is valid.
pub async fn authenticate_session(
    app: &App,
    secret: &str,
) -> ServiceResult<Option<(User, Session, Principal)>> {
    let Some(session) = app.store.get_session(&secret_hash(secret)).await? else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now() {
        return Ok(None);
    }
    let Some(user) = app.store.get_user(&session.user_id).await? else {
        return Ok(None);
    };
    // SEC-3: as for login and tokens, a disabled organisation's sessions stop working at once.
    let org_disabled = !org_is_active(app, &user.org_id).await?;
    if user.disabled || org_disabled {
        return Ok(None);
    }
    let principal = principal_of(&user);
    Ok(Some((user, session, principal)))
}

/// The principal of a bearer token: refused when unknown, revoked, expired or its organisation disabled.
pub async fn authenticate_token(app: &App, secret: &str) -> ServiceResult<Principal> {
    let invalid =
        || ServiceError::unauthenticated("auth.bad_token", "接口令牌无效", "invalid API token");
    // A token of a disabled organisation is as good as none.
    let token = app
        .store
        .get_token_of_active_org(&secret_hash(secret))
        .await?
        .ok_or_else(invalid)?;
    if token.revoked_at.is_some() {
        return Err(ServiceError::unauthenticated(
            "auth.token_revoked",
            "接口令牌已吊销",
            "the API token was revoked",
        ));
    }
    if token.expires_at <= Utc::now() {
        return Err(ServiceError::unauthenticated(
            "auth.token_expired",
            "接口令牌已过期",
            "the API token has expired",
        ));
    }
    let permissions: Vec<Permission> = token
        .permissions
        .iter()
        .filter_map(|p| Permission::parse(p))
        .collect();
    Ok(Principal::for_token(&token.id, &token.org_id, &permissions))
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub org_id: String,
    pub name: String,
    pub permissions: Vec<String>,
    /// Days until expiry (1 ..= token_max_days).
    pub expires_in_days: i64,
}

/// Issues an API token for a consumer system of an organisation; the secret is returned once.
/// A token never holds a permission its issuer lacks for that organisation.
pub async fn create_token(
    app: &App,
    ctx: &Ctx,
    input: NewToken,
) -> ServiceResult<(ApiToken, String)> {
    ctx.principal
        .authorize(Permission::TokenManage, Some(&input.org_id))?;
    app.store
        .get_org(&input.org_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("单位", "organisation", &input.org_id))?;
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(ServiceError::invalid(
            "input.required",
            "name",
            "请填写令牌名称",
            "token name is required",
        ));
    }
    if input.permissions.is_empty() {
        return Err(ServiceError::invalid(
            "token.no_permission",
            "permissions",
            "至少选择一项权限",
            "choose at least one permission",
        ));
    }
    let mut perms = Vec::new();
    for p in &input.permissions {
        let perm = Permission::parse(p.trim()).ok_or_else(|| {
            ServiceError::invalid(
                "token.unknown_permission",
                "permissions",
                format!("未知权限“{p}”"),
                format!("unknown permission '{p}'"),
            )
        })?;
        ctx.principal
            .authorize(perm, Some(&input.org_id))
            .map_err(|_| {
                ServiceError::new(
                    ErrorKind::Denied,
                    "token.permission_exceeds_issuer",
                    format!("不能授予令牌您自己在该单位没有的权限“{}”", perm.label_zh()),
                    format!(
                        "a token cannot hold '{}', which you lack for this organisation",
                        perm.label_en()
                    ),
                )
            })?;
        if !perms.contains(&perm) {
            perms.push(perm);
        }
    }
    let max = app.settings.token_max_days;
    if !(1..=max).contains(&input.expires_in_days) {
        return Err(ServiceError::invalid(
            "token.bad_expiry",
            "expires_in_days",
            format!("有效期须为 1–{max} 天"),
            format!("expiry must be 1–{max} days"),
        ));
    }
    let secret = format!("gs_{}", random_secret(40));
    let now = truncate_to_micros(Utc::now());
    let token = ApiToken {
        id: new_id(),
        org_id: input.org_id.clone(),
        name,
        token_hash: secret_hash(&secret),
        prefix: secret[..9].to_string(),
        permissions: perms.iter().map(|p| p.key().to_string()).collect(),
        created_by: ctx.principal.actor.clone(),
        created_at: now,
        expires_at: now + Duration::days(input.expires_in_days),
        revoked_at: None,
    };
    let mut audit = ctx.audit("token.create", "api_token", &token.id);
    audit.org_id = Some(token.org_id.clone());
    audit.after = summary(&token);
    app.store
        .commit(vec![Change::InsertToken(token.clone())], vec![audit])
        .await?;
    Ok((token, secret))
}

pub async fn revoke_token(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<ApiToken> {
    let before = app
        .store
        .get_token(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("令牌", "API token", id))?;
    ctx.principal
        .authorize(Permission::TokenManage, Some(&before.org_id))?;
    if before.revoked_at.is_some() {
        return Err(ServiceError::conflict(
            "token.revoked",
            "令牌已吊销",
            "the token is already revoked",
        ));
    }
    let at = truncate_to_micros(Utc::now());
    let mut after = before.clone();
    after.revoked_at = Some(at);
    let mut audit = ctx.audit("token.revoke", "api_token", id);
    audit.org_id = Some(before.org_id.clone());
    audit.before = summary(&before);
    audit.after = summary(&after);
    app.store
        .commit(
            vec![Change::RevokeToken {
                id: id.to_string(),
                at,
            }],
            vec![audit],
        )
        .await?;
    Ok(after)
}

pub async fn list_tokens(
    app: &App,
    ctx: &Ctx,
    org_id: Option<&str>,
) -> ServiceResult<Vec<ApiToken>> {
    match org_id {
        Some(org) => {
            ctx.principal
                .authorize(Permission::TokenManage, Some(org))?;
            Ok(app.store.list_tokens(Some(org)).await?)
        }
        None if ctx.principal.holds_globally(Permission::TokenManage) => {
            Ok(app.store.list_tokens(None).await?)
        }
        None => {
            let own = ctx.principal.org_id.clone().unwrap_or_default();
            ctx.principal
                .authorize(Permission::TokenManage, Some(&own))?;
            Ok(app.store.list_tokens(Some(&own)).await?)
        }
    }
}
