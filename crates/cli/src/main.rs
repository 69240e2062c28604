//! The `gongshu` binary: serve, demo, and the administration subcommands.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode, IdError};
use gongshu_server::{launch, Config};
use gongshu_services::identity::{self, NewUser};
use gongshu_services::orgs::{self, NewOrg};
use gongshu_services::{audit, datasets, demo, App, Ctx, ServiceError};
use gongshu_store::OrgFilter;

/// mimalloc rather than glibc's malloc: a load's reader thread allocates every
/// row and the writer frees it, and glibc serialised the two on its arena lock
/// (docs/performance.md, "Loading and cross-checking data").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "gongshu",
    version,
    about = "公数 Gongshu — 公共数据资源平台 / open public data platform"
)]
struct Cli {
    /// 配置文件 / config file (default: ./gongshu.toml if present)
    #[arg(long, global = true, env = "GONGSHU_CONFIG")]
    config: Option<PathBuf>,
    /// 数据目录 / data directory of the embedded SQLite store
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL (also GONGSHU_DATABASE_URL)
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// JSON logs
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动服务 / run the platform
    Serve(ServeArgs),
    /// 生成演示区域并启动 / seed a demo region and serve it
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// 合成人口记录数 / synthetic people to generate
        #[arg(long, default_value_t = 1000)]
        people: u32,
        /// 只生成数据并打印账号，不启动服务 / seed and print the logins, then exit
        #[arg(long)]
        seed_only: bool,
        /// 挂接数据的合成人口数 / synthetic people in the demo's mounted data (COL-9)
        #[arg(long, default_value_t = 100_000)]
        data_people: u32,
        /// 挂接数据的合成法人数 / synthetic legal entities in the demo's mounted data
        #[arg(long, default_value_t = 20_000)]
        data_entities: u32,
    },
    /// 载入数据文件 / load a data file into a resource (COL-1)
    Ingest(IngestArgs),
    /// 导出资源数据 / export a resource's current data
    Export(ExportArgs),
    /// 向上级平台报送目录与数据 / report changed catalog entries and data to the upper node (COL-7)
    ReportUp,
    /// 执行数据库迁移 / run database migrations
    Migrate,
    /// 用户管理 / users
    #[command(subcommand)]
    User(UserCommand),
    /// 单位管理 / organisations
    #[command(subcommand)]
    Org(OrgCommand),
    /// 审计日志 / audit trail
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 工作日历 / working-day calendar
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// 标识校验 / identifier checks
    #[command(subcommand)]
    Check(CheckCommand),
}

#[derive(Args)]
struct IngestArgs {
    /// 资源代码或目录 id / resource code or catalog entry id
    resource: String,
    /// 数据文件 / the file (CSV, XLSX, JSON, NDJSON)
    file: PathBuf,
    /// csv | xlsx | json | ndjson（默认按扩展名 / default: from the extension）
    #[arg(long)]
    format: Option<String>,
    /// utf-8 | gbk | gb18030（CSV，默认自动识别 / default: detected）
    #[arg(long)]
    encoding: Option<String>,
    /// 增量更新（按主键）/ upsert by key instead of replacing
    #[arg(long)]
    upsert: bool,
    /// 线下交付备案编号 / filing number of an offline delivery (XJ 22)
    #[arg(long)]
    filing_no: Option<String>,
    /// 备案说明 / filing note
    #[arg(long)]
    filing_note: Option<String>,
}

#[derive(Args)]
struct ExportArgs {
    /// 资源代码或目录 id / resource code or catalog entry id
    resource: String,
    /// csv | json | xlsx | parquet
    #[arg(long, default_value = "csv")]
    format: String,
    /// 输出文件（默认标准输出）/ output file (default: standard output)
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// 监听地址 / listen address (default 127.0.0.1:8080)
    #[arg(long)]
    listen: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新建用户 / create a user
    Create {
        /// 单位 ID、名称或统一社会信用代码 / organisation id, name or credit code
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// 角色，可重复 / role, repeatable (e.g. org_admin)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// 不填则生成 / generated when absent
        #[arg(long)]
        password: Option<String>,
    },
    /// 重置密码 / reset a password
    ResetPassword {
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// 停用 / disable
    Disable { username: String },
    /// 启用 / enable
    Enable { username: String },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// 从 CSV 或 JSON 导入，全部成功或全部不导入 / import from CSV or JSON, all or nothing
    Import { file: PathBuf },
    /// 列出单位 / list organisations
    List {
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// 校验哈希链，发现篡改则以非零退出 / verify the hash chain; non-zero exit on a fault
    Verify,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// 打印 N 个工作日后的日期 / the date N working days later
    AddWorkdays {
        date: NaiveDate,
        n: u32,
        /// 额外年份的日历表 / extra year tables (TOML)
        #[arg(long = "calendar-file")]
        files: Vec<PathBuf>,
    },
    /// 打印两日期之间的工作日数（不含起始日，含结束日）/ working days in (from, to]
    WorkdaysBetween {
        from: NaiveDate,
        to: NaiveDate,
        #[arg(long = "calendar-file")]
        files: Vec<PathBuf>,
    },
    /// 列出已加载年份及来源 / loaded years and their sources
    Years {
        #[arg(long = "calendar-file")]
        files: Vec<PathBuf>,
    },
    /// 打印时限策略 / print the deadline policy
    Deadlines,
}

#[derive(Subcommand)]
enum CheckCommand {
    /// 公民身份号码（GB 11643）/ citizen ID number
    IdNumber { value: String },
    /// 统一社会信用代码（GB 32100）/ unified social credit code
    CreditCode { value: String },
    /// 行政区划代码（GB/T 2260）/ division code
    DivisionCode { value: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(
        cli.log_json,
        matches!(cli.command, Command::Serve(_) | Command::Demo { .. }),
    );
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(json: bool, serving: bool) {
    let default = if serving { "info,sqlx=warn" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GONGSHU_LOG")
        .unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = &cli.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &cli.database_url {
        config.database_url = Some(url.clone());
    }
    Ok(config)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli)?;
    match cli.command {
        Command::Calendar(cmd) => return calendar(&config, cmd),
        Command::Check(cmd) => return Ok(check(cmd)),
        _ => {}
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                let app = launch::open_app(&config).await?;
                serve(app, config, args).await?;
            }
            Command::Demo {
                serve: args,
                people,
                seed_only,
                data_people,
                data_entities,
            } => {
                let app = launch::open_app(&config).await?;
                let mut consumer = None;
                let logins = if demo::is_seeded(&app).await? {
                    println!("演示数据已存在，重新生成演示账号密码 / demo data exists; issuing new demo passwords");
                    consumer = gongshu_services::demo_sharing::reissue_consumer(&app)
                        .await
                        .map_err(fail)?;
                    demo::reissue_logins(&app).await?
                } else {
                    println!("正在生成演示区域（合成数据）/ seeding the demo region (synthetic data) …");
                    let logins = demo::seed(&app, people).await?;
                    if data_people > 0 || data_entities > 0 {
                        println!(
                            "正在挂接演示数据：{data_people} 人、{data_entities} 个法人 / mounting demo data: {data_people} people, {data_entities} entities …"
                        );
                        let size = gongshu_services::demo_data::DemoSize {
                            people: data_people,
                            entities: data_entities,
                        };
                        let summary = gongshu_services::demo_data::seed_data(&app, size)
                            .await
                            .map_err(fail)?;
                        for (code, accepted, rejected) in &summary.loads {
                            println!("  {code}: 载入 {accepted} 行，隔离 {rejected} 行 / {accepted} rows loaded, {rejected} quarantined");
                        }
                        println!(
                            "  多源校核差异 {} 条 / {} cross-source discrepancies",
                            summary.discrepancies, summary.discrepancies
                        );
                        let social = gongshu_services::demo_social::seed_demo_purchase(&app)
                            .await
                            .map_err(fail)?;
                        println!(
                            "  统采共用社会数据：{} {}（{} 至 {}）/ social data bought once for all: {}",
                            social.entry.code,
                            social.entry.name,
                            social.agreement.agreement.starts_on,
                            social.agreement.agreement.ends_on,
                            social.entry.code
                        );
                        consumer = Some(
                            gongshu_services::demo_sharing::seed(&app, &summary.resources)
                                .await
                                .map_err(fail)?,
                        );
                        let open = gongshu_services::demo_open::seed_open(&app)
                            .await
                            .map_err(fail)?;
                        println!(
                            "  开放数据集 {} 个（有条件开放 {} 个），共 {} 行 / {} open datasets ({} conditional), {} rows",
                            open.datasets, open.conditional, open.rows, open.datasets, open.conditional, open.rows
                        );
                        let keys = gongshu_services::demo_open_access::seed_applications(&app)
                            .await
                            .map_err(fail)?;
                        println!("  开放数据申请的演示开发者密钥（请求头 X-Api-Key）/ demo developer keys for open-data applications (X-Api-Key):");
                        for k in keys {
                            println!("    {} {}", k.holder, k.secret);
                        }
                    }
                    logins
                };
                print_logins(&logins, &config);
                if let Some(c) = &consumer {
                    print_consumer(c, &config, args.listen.as_deref());
                }
                if !seed_only {
                    serve(app, config, args).await?;
                }
            }
            Command::Ingest(args) => {
                let app = launch::open_app(&config).await?;
                if !ingest(&app, args).await? {
                    return Ok(ExitCode::from(1));
                }
            }
            Command::Export(args) => {
                let app = launch::open_app(&config).await?;
                export(&app, args).await?;
            }
            Command::ReportUp => {
                let app = launch::open_app(&config).await?;
                if !report_up(&app).await? {
                    return Ok(ExitCode::from(1));
                }
            }
            Command::Migrate => {
                launch::open_app(&config).await?;
                println!("数据库已是最新 / database migrated ({})", store_label(&config));
            }
            Command::User(cmd) => user(&*launch::open_app(&config).await?, cmd).await?,
            Command::Org(cmd) => org(&*launch::open_app(&config).await?, cmd).await?,
            Command::Audit(AuditCommand::Verify) => {
                let app = launch::open_app(&config).await?;
                let report = audit::verify_chain(&app).await?;
                if report.ok {
                    println!("{} / {}", report.message, report.message_en);
                } else {
                    println!("审计链校验失败 / AUDIT CHAIN BROKEN");
                    if let Some(fault) = &report.fault {
                        println!("首个异常记录 / first bad record: #{}", fault.seq());
                    }
                    println!("{}", report.message);
                    println!("{}", report.message_en);
                    return Ok(ExitCode::from(1));
                }
            }
            Command::Calendar(_) | Command::Check(_) => unreachable!("handled without a runtime"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Prints a progress line to standard error until `done` fires.
fn progress_bar(
    progress: Arc<datasets::LoadProgress>,
    total_bytes: u64,
    done: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    use std::sync::atomic::Ordering;
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let mut done = done;
        loop {
            tokio::select! {
                _ = &mut done => break,
                _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
            }
            let secs = started.elapsed().as_secs_f64().max(0.001);
            let rows = progress
                .rows_read
                .load(Ordering::Relaxed)
                .max(progress.rows_written.load(Ordering::Relaxed));
            let bytes = progress.bytes_read.load(Ordering::Relaxed);
            let eta = if bytes > 0 && total_bytes > bytes {
                let left = (total_bytes - bytes) as f64 / (bytes as f64 / secs);
                format!("{left:.0}s")
            } else {
                "-".into()
            };
            let mib = |b: u64| b as f64 / 1_048_576.0;
            eprint!(
                "\r{rows} 行 rows · {:.0} 行/秒 rows/s · {:.1}/{:.1} MiB · 剩余 ETA {eta}   ",
                rows as f64 / secs,
                mib(bytes),
                mib(total_bytes)
            );
        }
        eprintln!();
    })
}

/// COL-1: `gongshu ingest`; false when the load was refused or failed.
async fn ingest(app: &App, args: IngestArgs) -> anyhow::Result<bool> {
    use gongshu_services::dataset_input::{InputFormat, TextEncoding};
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string());
    let format = match &args.format {
        Some(f) => InputFormat::parse(f),
        None => file_name.as_deref().and_then(InputFormat::from_file_name),
    }
    .ok_or_else(|| {
        anyhow::anyhow!("无法确定格式，请用 --format / cannot tell the format: use --format")
    })?;
    let channel = if args.filing_no.is_some() {
        datasets::Channel::Offline
    } else {
        datasets::Channel::Cli
    };
    let mut opts = datasets::LoadOptions::new(channel, format);
    opts.encoding = match &args.encoding {
        Some(e) => Some(
            TextEncoding::parse(e)
                .ok_or_else(|| anyhow::anyhow!("未知编码 / unknown encoding: {e}"))?,
        ),
        None => None,
    };
    if args.upsert {
        opts.mode = datasets::LoadMode::Upsert;
    }
    opts.file_name = file_name;
    opts.filing_no = args.filing_no;
    opts.filing_note = args.filing_note;
    let total = std::fs::metadata(&args.file)
        .with_context(|| format!("无法读取 / cannot read {}", args.file.display()))?
        .len();
    let progress = Arc::new(datasets::LoadProgress::default());
    opts.progress = Some(progress.clone());
    let (stop, done) = tokio::sync::oneshot::channel();
    let bar = progress_bar(progress, total, done);
    let started = std::time::Instant::now();
    let result = datasets::load_file(app, &Ctx::cli(), &args.resource, &args.file, opts).await;
    let _ = stop.send(());
    let _ = bar.await;
    let load = result.map_err(fail)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "载入 {} · 版本 {} · 状态 {} / load {} version {} status {}",
        load.id, load.version, load.status, load.id, load.version, load.status
    );
    println!(
        "读取 {} 行，接收 {} 行，隔离 {} 行，用时 {:.1} 秒（{:.0} 行/秒）/ read {}, accepted {}, rejected {} in {:.1}s",
        load.rows_read,
        load.rows_accepted,
        load.rows_rejected,
        secs,
        load.rows_read as f64 / secs.max(0.001),
        load.rows_read,
        load.rows_accepted,
        load.rows_rejected,
        secs
    );
    if let Some(checksum) = &load.checksum {
        println!("SM3 {checksum}");
    }
    if let Some(error) = &load.error {
        println!("{error}");
    }
    if load.rows_rejected > 0 {
        println!(
            "不合格行可在控制台或 GET /api/v1/loads/{}/rejects.csv 下载 / download the rejected rows there",
            load.id
        );
    }
    Ok(load.status == "applied")
}

/// `gongshu export`: the current rows of a resource, streamed page by page.
/// COL-7 (XJ 13): one report run, as the hourly job does it; false when an entry failed.
async fn report_up(app: &App) -> anyhow::Result<bool> {
    let run = gongshu_services::upstream::report_all(app, &Ctx::cli()).await?;
    for o in &run.outcomes {
        match &o.error {
            None => println!(
                "已报送 / reported  {} → {}{}",
                o.code,
                o.upper_code.as_deref().unwrap_or("-"),
                o.rows
                    .map(|r| format!("（{r} 行 / rows）"))
                    .unwrap_or_default()
            ),
            Some(e) => println!("失败 / failed  {}: {e}", o.code),
        }
    }
    println!(
        "上级平台 / upper node {}: 报送 {} 条，失败 {} 条，未尝试 {} 条，无变化或免报 {} 条 / reported {}, failed {}, not tried {}, unchanged or exempt {}",
        run.upper_url,
        run.reported,
        run.failed,
        run.not_tried,
        run.skipped,
        run.reported,
        run.failed,
        run.not_tried,
        run.skipped
    );
    if run.not_tried > 0 {
        println!("上级平台不可达或拒绝本节点令牌，其余条目留待下次报送 / the upper node is unreachable or refuses this node's token: the other entries wait for the next run");
    }
    Ok(run.failed == 0)
}

async fn export(app: &App, args: ExportArgs) -> anyhow::Result<()> {
    let format = datasets::ExportFormat::parse(&args.format).ok_or_else(|| {
        anyhow::anyhow!(
            "不支持的导出格式 / unsupported export format: {} (csv, json, xlsx, parquet)",
            args.format
        )
    })?;
    let progress = Arc::new(datasets::LoadProgress::default());
    let (stop, done) = tokio::sync::oneshot::channel();
    let bar = args
        .output
        .as_ref()
        .map(|_| progress_bar(progress.clone(), 0, done));
    let mut out: Box<dyn std::io::Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("无法写入 / cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let result = datasets::export(
        app,
        &Ctx::cli(),
        &args.resource,
        format,
        &mut *out,
        Some(progress),
    )
    .await;
    let _ = stop.send(());
    if let Some(bar) = bar {
        let _ = bar.await;
    }
    let rows = result.map_err(fail)?;
    if let Some(path) = &args.output {
        println!(
            "已导出 {rows} 行到 {} / exported {rows} rows",
            path.display()
        );
    }
    Ok(())
}

fn store_label(config: &Config) -> String {
    match &config.database_url {
        Some(_) => "PostgreSQL".into(),
        None => format!("SQLite {}", config.data_dir.join("gongshu.db").display()),
    }
}

async fn serve(app: Arc<App>, mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("无法监听 / cannot listen on {}", config.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    // Links the portal prints (downloads, citations) name the address served on,
    // unless the deployment set its public address.
    if config.public_url == Config::default().public_url {
        config.public_url = format!("http://{addr}");
    }
    println!(
        "公数已启动 / Gongshu is serving on http://{addr}  ({})",
        store_label(&config)
    );
    println!("开放门户 / Open data portal: http://{addr}/open");
    println!("接口文档 / API reference: http://{addr}/api/docs");
    launch::serve(app, config, listener, launch::shutdown_signal()).await
}

/// SHR-2: the demo consumer system's token and the call that fetches a masked record.
fn print_consumer(
    c: &gongshu_services::demo_sharing::DemoConsumer,
    config: &Config,
    listen: Option<&str>,
) {
    let addr = listen.unwrap_or(&config.listen);
    println!("演示调用方：{}婚姻登记系统（令牌仅显示这一次）", c.org_name);
    println!(
        "Demo consumer system: the civil affairs bureau's marriage registry (token shown once)"
    );
    println!("GONGSHU_DEMO_TOKEN={}", c.token_secret);
    println!("授权 grant: {}", c.grant_id);
    println!(
        "curl -s -H \"Authorization: Bearer $GONGSHU_DEMO_TOKEN\" http://{addr}/api/v1/services/{}/records/{}",
        c.resource_code, c.sample_key
    );
    println!();
}

fn print_logins(logins: &[demo::DemoLogin], config: &Config) {
    println!();
    println!("演示账号（密码仅显示这一次；再次运行 demo 会重新生成）");
    println!("Demo logins (passwords shown once; running demo again issues new ones)");
    println!(
        "{:<16} {:<20} {:<22} 单位 / organisation",
        "用户名 username", "密码 password", "角色 role"
    );
    for l in logins {
        println!(
            "{:<16} {:<20} {:<22} {}",
            l.username, l.password, l.role, l.org
        );
    }
    println!("数据目录 / data: {}", store_label(config));
    println!("所有人口与法人记录均为合成数据 / every person and entity record is synthetic");
    println!();
}

fn fail(e: ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{}（{}）/ {}", e.message, e.code, e.message_en)
}

async fn find_org(app: &App, key: &str) -> anyhow::Result<String> {
    let orgs = app
        .store
        .list_orgs(&OrgFilter::default())
        .await
        .map_err(|e| fail(e.into()))?;
    orgs.iter()
        .find(|o| o.id == key || o.name == key || o.credit_code.as_deref() == Some(key))
        .map(|o| o.id.clone())
        .ok_or_else(|| anyhow::anyhow!("找不到单位 / no organisation matches: {key}"))
}

async fn user(app: &App, cmd: UserCommand) -> anyhow::Result<()> {
    let ctx = Ctx::cli();
    match cmd {
        UserCommand::Create {
            org,
            username,
            name,
            roles,
            password,
        } => {
            let org_id = find_org(app, &org).await?;
            let input = NewUser {
                org_id,
                username,
                display_name: name,
                roles,
                password,
            };
            let (user, generated) = identity::create_user(app, &ctx, input)
                .await
                .map_err(fail)?;
            println!("已创建用户 / created user {} ({})", user.username, user.id);
            if let Some(p) = generated {
                println!("初始密码 / initial password: {p}");
            }
        }
        UserCommand::ResetPassword { username, password } => {
            let u = identity::find_user_by_username(app, &username)
                .await
                .map_err(fail)?;
            let p = identity::reset_password(app, &ctx, &u.id, password.as_deref())
                .await
                .map_err(fail)?;
            println!("已重置 / reset {}: {p}", u.username);
        }
        UserCommand::Disable { username } => {
            let u = identity::find_user_by_username(app, &username)
                .await
                .map_err(fail)?;
            identity::set_user_disabled(app, &ctx, &u.id, true)
                .await
                .map_err(fail)?;
            println!("已停用 / disabled {}", u.username);
        }
        UserCommand::Enable { username } => {
            let u = identity::find_user_by_username(app, &username)
                .await
                .map_err(fail)?;
            identity::set_user_disabled(app, &ctx, &u.id, false)
                .await
                .map_err(fail)?;
            println!("已启用 / enabled {}", u.username);
        }
    }
    Ok(())
}

async fn org(app: &App, cmd: OrgCommand) -> anyhow::Result<()> {
    let ctx = Ctx::cli();
    match cmd {
        OrgCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("读取 / reading {}", file.display()))?;
            let inputs: Vec<NewOrg> = if file.extension().and_then(|e| e.to_str()) == Some("json") {
                serde_json::from_str(&text).context("JSON 格式有误 / invalid JSON")?
            } else {
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                let mut rows = Vec::new();
                for (i, row) in reader.deserialize::<NewOrg>().enumerate() {
                    rows.push(row.with_context(|| {
                        format!("CSV 第 {} 行有误 / CSV row {} is invalid", i + 2, i + 2)
                    })?);
                }
                rows
            };
            let created = orgs::import_orgs(app, &ctx, inputs).await.map_err(fail)?;
            println!(
                "已导入 {} 个单位 / imported {} organisations",
                created.len(),
                created.len()
            );
        }
        OrgCommand::List { kind } => {
            let filter = OrgFilter {
                kind,
                ..Default::default()
            };
            for o in orgs::list_orgs(app, &ctx, &filter).await.map_err(fail)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    o.id,
                    o.division_code,
                    o.kind,
                    o.credit_code.unwrap_or_default(),
                    o.name
                );
            }
        }
    }
    Ok(())
}

fn calendar(config: &Config, cmd: CalendarCommand) -> anyhow::Result<ExitCode> {
    let load = |files: &[PathBuf]| -> anyhow::Result<gongshu_domain::calendar::WorkCalendar> {
        let mut cal = config.calendar()?;
        for f in files {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("读取 / reading {}", f.display()))?;
            cal.load_year_toml(&text).map_err(|e| {
                anyhow::anyhow!("{}: {} / {}", f.display(), e.message_zh(), e.message_en())
            })?;
        }
        Ok(cal)
    };
    let refuse = |e: gongshu_domain::calendar::CalendarError| {
        eprintln!("{} / {}", e.message_zh(), e.message_en());
        ExitCode::from(1)
    };
    match cmd {
        CalendarCommand::AddWorkdays { date, n, files } => {
            match load(&files)?.add_workdays(date, n) {
                Ok(d) => println!("{d}"),
                Err(e) => return Ok(refuse(e)),
            }
        }
        CalendarCommand::WorkdaysBetween { from, to, files } => {
            match load(&files)?.workdays_between(from, to) {
                Ok(n) => println!("{n}"),
                Err(e) => return Ok(refuse(e)),
            }
        }
        CalendarCommand::Years { files } => {
            let cal = load(&files)?;
            for y in cal.years() {
                if let Some(t) = cal.table(y) {
                    println!("{y}\t{}\t{}", t.source, t.source_en);
                }
            }
        }
        CalendarCommand::Deadlines => {
            let policy = config.deadline_policy()?;
            for (k, days) in policy.entries() {
                println!(
                    "{}\t{days}\t{}\t{}\t{} / {}",
                    k.key(),
                    k.requirement(),
                    k.basis(),
                    k.label_zh(),
                    k.label_en()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(cmd: CheckCommand) -> ExitCode {
    let result: Result<String, IdError> = match cmd {
        CheckCommand::IdNumber { value } => {
            CitizenId::parse(&value).map(|v| v.as_str().to_string())
        }
        CheckCommand::CreditCode { value } => {
            CreditCode::parse(&value).map(|v| v.as_str().to_string())
        }
        CheckCommand::DivisionCode { value } => {
            DivisionCode::parse(&value).map(|v| v.as_str().to_string())
        }
    };
    match result {
        Ok(_) => {
            println!("valid");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!(
                "invalid: {} / {} ({})",
                e.message_zh(),
                e.message_en(),
                e.code()
            );
            ExitCode::from(1)
        }
    }
}
