//! HTTPS and HTTP/2, checked with curl: the self-signed certificate, ALPN
//! h2, h2c with prior knowledge, TLS without ALPN, SockJS streaming over HTTP/2, and the
//! answers to plain HTTP on the HTTPS port and to a bad certificate.

use crate::common::*;
use devserve::tls::TlsConfig;
use devserve::{Config, Error, Server};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start(root: &Path, tls: Option<TlsConfig>) -> Server {
    let config = Config {
        root: root.to_path_buf(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        tls,
        ..Config::default()
    };
    Server::start(config).await.expect("server starts")
}

fn site() -> tempfile::TempDir {
    let root = temp_dir();
    write(
        root.path(),
        "index.html",
        "<html><body><p>secure</p></body></html>",
    );
    root
}

#[tokio::test]
async fn https_with_a_generated_certificate_speaks_http2_by_alpn() {
    let root = site();
    let cache = temp_dir();
    let tls = TlsConfig::SelfSigned {
        cache_dir: cache.path().to_path_buf(),
    };
    let server = start(root.path(), Some(tls.clone())).await;
    assert_eq!(server.scheme(), "https");
    assert!(server.certificate_is_new());
    let cert = server.certificate().expect("a certificate").to_path_buf();
    assert!(cert.starts_with(cache.path()), "{}", cert.display());
    let port = server.local_addr().port();

    // Verified against the generated certificate itself, by name.
    let url = format!("https://localhost:{port}/");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let cert_arg = cert.display().to_string();
    let output = curl(&[
        "--http2",
        "--cacert",
        &cert_arg,
        "--resolve",
        &resolve,
        "-w",
        "\n%{http_version}",
        &url,
    ])
    .await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("<p>secure</p>"), "{text}");
    assert!(
        text.contains("/__devserve/client.js"),
        "client injected over https: {text}"
    );
    assert!(text.ends_with("\n2"), "HTTP/2 by ALPN: {text}");

    let http1 = curl(&[
        "--http1.1",
        "-k",
        "-w",
        "%{http_version}",
        "-o",
        "/dev/null",
        &url,
    ])
    .await;
    assert_eq!(String::from_utf8_lossy(&http1.stdout), "1.1");

    // Without ALPN the server tells the protocols apart by the first bytes.
    for (args, version) in [
        (&["--no-alpn"][..], "1.1"),
        (&["--no-alpn", "--http2-prior-knowledge"][..], "2"),
    ] {
        let mut args = args.to_vec();
        args.extend(["-k", "-w", "%{http_version}", "-o", "/dev/null", &url]);
        let output = curl(&args).await;
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            version,
            "curl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    server.shutdown().await;

    // A second start reuses the certificate.
    let again = start(root.path(), Some(tls)).await;
    assert!(!again.certificate_is_new());
    assert_eq!(again.certificate(), Some(cert.as_path()));
    again.shutdown().await;
}

#[tokio::test]
async fn plain_http_gets_http2_with_prior_knowledge_and_sockjs_streams_over_it() {
    let root = site();
    let server = start(root.path(), None).await;
    let addr = server.local_addr();
    let page = curl(&[
        "--http2-prior-knowledge",
        "-w",
        "\n%{http_version}",
        &format!("http://{addr}/"),
    ])
    .await;
    let text = String::from_utf8_lossy(&page.stdout);
    assert!(
        text.contains("<p>secure</p>") && text.ends_with("\n2"),
        "{text}"
    );

    // xhr-streaming over HTTP/2: the open frame and the greeting arrive
    // while the stream stays open (curl gives up at --max-time).
    let session = format!(
        "http://{addr}/sockjs-node/000/{}/xhr_streaming",
        session_id()
    );
    let stream = curl(&[
        "--http2-prior-knowledge",
        "-N",
        "-X",
        "POST",
        "--max-time",
        "2",
        &session,
    ])
    .await;
    let body = String::from_utf8_lossy(&stream.stdout);
    assert!(body.contains("\no\n"), "open frame: {body:.200}");
    let greeting = body.split("\no\n").nth(1).unwrap_or("");
    assert!(greeting.starts_with("a[\""), "greeting: {greeting:.400}");
    assert!(
        greeting.contains(r#"\"type\":\"hash\""#),
        "greeting: {greeting:.400}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn plain_http_on_the_https_port_gets_a_clear_400() {
    let root = site();
    let cache = temp_dir();
    let server = start(
        root.path(),
        Some(TlsConfig::SelfSigned {
            cache_dir: cache.path().to_path_buf(),
        }),
    )
    .await;
    let addr = server.local_addr();
    let answer = get(addr, "/", &[]).await;
    assert_eq!(answer.status, 400);
    assert!(answer.text().contains("https://"), "{}", answer.text());

    // A handshake that sends garbage after the record type is dropped; the
    // server keeps serving.
    let mut garbage = tokio::net::TcpStream::connect(addr).await.expect("connect");
    garbage
        .write_all(&[0x16, 0xff, 0xff, 0, 1, 2, 3])
        .await
        .expect("write");
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(WAIT, garbage.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "a garbage handshake is closed, not held");
    let again = curl(&[
        "-k",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("https://{addr}/"),
    ])
    .await;
    assert_eq!(String::from_utf8_lossy(&again.stdout), "200");
    server.shutdown().await;
}

#[tokio::test]
async fn unreadable_or_mismatched_certificates_are_refused_at_start() {
    let root = site();
    let files = temp_dir();
    let not_pem = write(files.path(), "cert.pem", "not a certificate");
    let missing = files.path().join("missing-key.pem");
    let config = |tls| Config {
        root: root.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        tls: Some(tls),
        ..Config::default()
    };
    let error = Server::start(config(TlsConfig::Files {
        cert: not_pem.clone(),
        key: missing.clone(),
    }))
    .await
    .expect_err("refused");
    assert!(matches!(error, Error::Tls(_)), "{error}");
    assert!(error.to_string().contains("cert.pem"), "{error}");

    // Two generated certificates: one's key does not fit the other.
    let a = temp_dir();
    let b = temp_dir();
    let first = devserve::tls::SelfSigned::load_or_create(a.path()).expect("a");
    let second = devserve::tls::SelfSigned::load_or_create(b.path()).expect("b");
    let error = Server::start(config(TlsConfig::Files {
        cert: first.cert_path,
        key: second.key_path,
    }))
    .await
    .expect_err("refused");
    assert!(error.to_string().contains("do not fit"), "{error}");
}

/// devserve's client over wss:// and sockjs-client over xhr-streaming on HTTP/2, in Chromium.
#[tokio::test]
async fn browsers_connect_over_wss_and_http2() {
    if !require("chromium and playwright-core", chromium_ready()) {
        return;
    }
    let (ok, output) = run_node(
        "https_browser.mjs",
        &[("DEVSERVE_BIN", env!("CARGO_BIN_EXE_devserve").to_string())],
        std::time::Duration::from_secs(150),
    )
    .await;
    println!("{output}");
    assert!(ok, "devserve over HTTPS in Chromium failed:\n{output}");
}

/// webpack-dev-server 3's own client, unchanged, against devserve --https.
#[tokio::test]
async fn webpack_dev_server_3_client_works_over_https() {
    if !require("chromium and playwright-core", chromium_ready()) {
        return;
    }
    let (ok, output) = run_node(
        "wds3_client.mjs",
        &[
            ("DEVSERVE_BIN", env!("CARGO_BIN_EXE_devserve").to_string()),
            ("DEVSERVE_HTTPS", "1".to_string()),
        ],
        std::time::Duration::from_secs(200),
    )
    .await;
    println!("{output}");
    assert!(
        ok,
        "webpack-dev-server 3's client over HTTPS failed:\n{output}"
    );
}
