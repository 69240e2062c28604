//! COL-1: a department's HTTP JSON endpoint behind https, its certificate issued by
//! an internal authority that the deployment names in `ca_file`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use gongshu_server::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{send, Resp, TestServer};
use crate::data::{data_resources, person};

#[path = "../../../connectors/tests/pull/pki.rs"]
mod pki;

/// The test's certificate authority and its certificate as a PEM file.
struct InternalCa {
    pem_file: PathBuf,
    acceptor: tokio_rustls::TlsAcceptor,
}

fn internal_ca() -> &'static InternalCa {
    static CA: OnceLock<InternalCa> = OnceLock::new();
    CA.get_or_init(|| {
        let pki = pki::TestPki::new();
        // Under the target directory's scratch space, which `cargo clean` empties.
        let pem_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "gongshu-e2e-ca-{}.pem",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&pem_file, &pki.ca_pem).unwrap();
        InternalCa {
            pem_file,
            acceptor: pki.acceptor,
        }
    })
}

fn trusting_the_internal_ca(config: &mut Config) {
    config.ca_file = Some(internal_ca().pem_file.clone());
}

/// Answers every request on `https://127.0.0.1:<port>/` with `body` as JSON.
async fn serve_json(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = internal_ca().acceptor.accept(socket).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    base
}

/// Saves an https source for the household resource, tests it and pulls it.
/// Returns the test's and the pull's answers.
async fn pull_household_over_https(srv: &TestServer) -> (Resp, Resp) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"].code;
    let records: Vec<Value> = (0..3)
        .map(|i| {
            let id = person(400 + i, 17);
            let birth = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
            let female = gongshu_domain::ids::CitizenId::parse(&id)
                .unwrap()
                .is_female();
            json!({
                "citizen_id": id,
                "name": format!("居民{i}"),
                "sex": if female { "女" } else { "男" },
                "birth_date": birth,
                "marital_status": "未婚",
            })
        })
        .collect();
    let base = serve_json(json!({ "data": records }).to_string()).await;
    send(
        psb.request(
            reqwest::Method::PUT,
            &format!("/api/v1/datasets/{household}/source"),
        )
        .json(&json!({
        "source": {
            "kind": "http_json",
            "url": format!("{base}/household"),
            "records_path": "data",
            "paging": {"kind": "none"},
        },
        "scheduled": false,
        })),
    )
    .await
    .expect_status(200);
    let tested = psb
        .post(
            &format!("/api/v1/datasets/{household}/source/test"),
            json!({}),
        )
        .await;
    let pulled = psb
        .post(&format!("/api/v1/datasets/{household}/pull"), json!({}))
        .await;
    (tested, pulled)
}

async fn col_1_https_source_is_pulled_through_the_configured_authority(srv: Arc<TestServer>) {
    let (tested, load) = pull_household_over_https(&srv).await;
    let (tested, load) = (tested.expect_status(200), load.expect_status(201));
    assert!(
        tested
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "citizen_id")),
        "{tested}"
    );
    assert_eq!(load["status"], "applied", "{load}");
    assert_eq!(load["channel"], "pull");
    assert_eq!(load["rows_accepted"], 3, "{load}");
}

async fn col_1_https_source_with_an_unknown_authority_fails_clearly(srv: Arc<TestServer>) {
    let (tested, load) = pull_household_over_https(&srv).await;
    let tested = tested.expect_error(400, "connector.tls_failed");
    assert!(
        tested["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ca_file"),
        "{tested}"
    );
    let load = load.expect_status(422);
    assert_eq!(load["status"], "failed", "{load}");
    assert_eq!(load["error_code"], "connector.tls_failed", "{load}");
}

mod col_1_https_source_is_pulled_through_the_configured_authority {
    use crate::common::{run_configured, Backend};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run_configured(
            Backend::Sqlite,
            super::trusting_the_internal_ca,
            super::col_1_https_source_is_pulled_through_the_configured_authority,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run_configured(
            Backend::Postgres,
            super::trusting_the_internal_ca,
            super::col_1_https_source_is_pulled_through_the_configured_authority,
        )
        .await;
    }
}
both_backends!(col_1_https_source_with_an_unknown_authority_fails_clearly);
