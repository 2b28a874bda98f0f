//! The router's order and the validated config: what the embedder's
//! fallback receives, what stays devserve's, and which configurations
//! `start` refuses.

use crate::common::*;
use devserve::config::ConfigError;
use devserve::{Config, Error, Server};
use std::time::Duration;

async fn with_echo_fallback(root: &std::path::Path) -> Server {
    Server::builder()
        .root(root)
        .bind("127.0.0.1:0".parse().expect("addr"))
        .fallback(|req| async move {
            http::Response::new(devserve::body::full(format!(
                "fallback got {} {}",
                req.method(),
                req.uri().path()
            )))
        })
        .start()
        .await
        .expect("start")
}

#[tokio::test]
async fn the_fallback_receives_methods_the_files_do_not_serve() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>home</p>");
    let server = with_echo_fallback(root.path()).await;
    let addr = server.local_addr();

    let created = post(addr, "/api/items", &[], b"{\"name\":\"x\"}").await;
    assert_eq!(created.status, 200);
    assert_eq!(created.text(), "fallback got POST /api/items");
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        let response = raw(addr, &request(method, addr, "/api/items/1", &[], b"")).await;
        assert_eq!(response.status, 200, "{method}");
        assert_eq!(
            response.text(),
            format!("fallback got {method} /api/items/1")
        );
    }
    // POST to a path that is a file goes to the fallback too: files only answer GET/HEAD.
    let posted = post(addr, "/index.html", &[], b"").await;
    assert_eq!(posted.text(), "fallback got POST /index.html");
    server.shutdown().await;
}

#[tokio::test]
async fn files_and_devserve_routes_come_before_the_fallback() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>home</p>");
    let server = with_echo_fallback(root.path()).await;
    let addr = server.local_addr();

    assert!(get(addr, "/", &[]).await.text().contains("<p>home</p>"));
    assert_eq!(
        get(addr, "/missing", &[]).await.text(),
        "fallback got GET /missing"
    );
    let client = get(addr, "/__devserve/client.js", &[]).await;
    assert_eq!(client.status, 200);
    assert!(!client.text().starts_with("fallback"));
    let info = get(addr, "/sockjs-node/info", &[]).await;
    assert_eq!(info.status, 200);
    assert!(info.text().contains("\"websocket\""), "{}", info.text());
    // The gates run before the fallback.
    let refused = get(addr, "/api/items", &[("Host", "evil.example")]).await;
    assert_eq!(refused.status, 403);
    server.shutdown().await;
}

#[tokio::test]
async fn without_a_fallback_other_methods_get_405() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>home</p>");
    let server = Server::builder()
        .root(root.path())
        .bind("127.0.0.1:0".parse().expect("addr"))
        .start()
        .await
        .expect("start");
    let addr = server.local_addr();
    assert_eq!(post(addr, "/index.html", &[], b"").await.status, 405);
    assert_eq!(get(addr, "/missing", &[]).await.status, 404);
    server.shutdown().await;
}

async fn refused(adjust: impl FnOnce(&mut Config)) -> ConfigError {
    let root = temp_dir();
    let mut config = Config {
        root: root.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    adjust(&mut config);
    match Server::start(config).await {
        Err(Error::InvalidConfig(error)) => error,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(server) => {
            server.shutdown().await;
            panic!("an invalid config started")
        }
    }
}

#[tokio::test]
async fn start_refuses_a_config_that_cannot_work() {
    let zero_heartbeat = refused(|c| c.client.heartbeat = Duration::ZERO).await;
    assert_eq!(zero_heartbeat.field(), "client.heartbeat");
    assert!(
        zero_heartbeat.to_string().contains("0 ms"),
        "{zero_heartbeat}"
    );

    let zero_poll = refused(|c| c.watch.poll = Some(Duration::ZERO)).await;
    assert_eq!(zero_poll.field(), "watch.poll");

    let long_debounce = refused(|c| c.watch.debounce = Duration::from_secs(5)).await;
    assert_eq!(long_debounce.field(), "watch.debounce");

    let bad_glob = refused(|c| c.watch.ignore.push("src/[".into())).await;
    assert_eq!(bad_glob.field(), "watch.ignore");
    assert!(bad_glob.to_string().contains("src/["), "{bad_glob}");

    let bad_host = refused(|c| c.security.allowed_hosts.push("a b".into())).await;
    assert_eq!(bad_host.field(), "security.allowed_hosts");
}

#[test]
fn an_unknown_client_log_level_is_refused() {
    let error = "loud"
        .parse::<devserve::config::ClientLogLevel>()
        .expect_err("refused");
    assert_eq!(error.field(), "client.log_level");
    assert!(error.to_string().contains("info, warn"), "{error}");
}

#[tokio::test]
async fn with_cors_a_preflight_gets_204_and_without_it_405() {
    let root = temp_dir();
    write(root.path(), "data.json", "{}");
    let preflight = |addr| {
        request(
            "OPTIONS",
            addr,
            "/data.json",
            &[
                ("Origin", "http://app.localhost:3000"),
                ("Access-Control-Request-Method", "GET"),
                (
                    "Access-Control-Request-Headers",
                    "x-requested-with, content-type",
                ),
            ],
            b"",
        )
    };
    let open = Server::builder()
        .root(root.path())
        .bind("127.0.0.1:0".parse().expect("addr"))
        .cors(true)
        .start()
        .await
        .expect("start");
    let addr = open.local_addr();
    let answer = raw(addr, &preflight(addr)).await;
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        answer.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS")
    );
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("x-requested-with, content-type")
    );
    // A plain OPTIONS is still not something the files serve.
    let plain = raw(addr, &request("OPTIONS", addr, "/data.json", &[], b"")).await;
    assert_eq!(plain.status, 405);
    open.shutdown().await;

    let closed = Server::builder()
        .root(root.path())
        .bind("127.0.0.1:0".parse().expect("addr"))
        .start()
        .await
        .expect("start");
    let addr = closed.local_addr();
    let answer = raw(addr, &preflight(addr)).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("access-control-allow-origin"), None);
    closed.shutdown().await;
}

#[tokio::test]
async fn localhost_reaches_devserve_in_both_address_families() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>devserve</p>");
    let holder = std::net::TcpListener::bind("[::1]:0")
        .expect("this test needs IPv6 loopback (::1), which Linux has unless disabled");
    let taken = holder.local_addr().expect("addr").port();
    let server = Server::builder()
        .root(root.path())
        .bind(format!("127.0.0.1:{taken}").parse().expect("addr"))
        .start()
        .await
        .expect("start");
    let port = server.local_addr().port();
    assert_ne!(
        port, taken,
        "another server on [::1]:{taken} means the port is taken"
    );
    for family in ["127.0.0.1", "[::1]"] {
        let addr: std::net::SocketAddr = format!("{family}:{port}").parse().expect("addr");
        let page = get(addr, "/", &[("Host", &format!("localhost:{port}"))]).await;
        assert!(
            page.text().contains("<p>devserve</p>"),
            "{family}: {}",
            page.text()
        );
    }
    server.shutdown().await;

    let strict = Server::builder()
        .root(root.path())
        .bind(format!("127.0.0.1:{taken}").parse().expect("addr"))
        .strict_port(true)
        .start()
        .await;
    assert!(matches!(strict, Err(Error::AddressInUse(_))), "{strict:?}");
    drop(holder);
}

/// The next request-log event.
async fn next_request(
    events: &mut tokio::sync::broadcast::Receiver<devserve::Event>,
) -> (String, String, u16, Option<u64>) {
    loop {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("a request event in time")
            .expect("events open");
        if let devserve::Event::Request {
            method,
            path,
            status,
            bytes,
            ..
        } = event
        {
            return (method, path, status, bytes);
        }
    }
}

#[tokio::test]
async fn the_request_log_tells_every_kind_of_answer() {
    let root = temp_dir();
    write(root.path(), "app.js", "let a = 1;\n");
    let config = Config {
        root: root.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        log_requests: true,
        ..Config::default()
    };
    let server = Server::start(config).await.expect("start");
    let addr = server.local_addr();
    let mut events = server.events();
    // Read from disk, then answered from the cache, then a 404, a refused
    // host, an embedded asset and a live-reload endpoint.
    for _ in 0..2 {
        assert_eq!(get(addr, "/app.js", &[]).await.status, 200);
        assert_eq!(
            next_request(&mut events).await,
            ("GET".into(), "/app.js".into(), 200, Some(11))
        );
    }
    assert_eq!(get(addr, "/missing.js", &[]).await.status, 404);
    let (method, path, status, _) = next_request(&mut events).await;
    assert_eq!(
        (method.as_str(), path.as_str(), status),
        ("GET", "/missing.js", 404)
    );
    let refused = raw(
        addr,
        b"GET /app.js HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(next_request(&mut events).await.2, 403);
    assert_eq!(get(addr, "/__devserve/client.js", &[]).await.status, 200);
    assert_eq!(next_request(&mut events).await.1, "/__devserve/client.js");
    assert_eq!(get(addr, "/sockjs-node/info", &[]).await.status, 200);
    assert_eq!(next_request(&mut events).await.1, "/sockjs-node/info");
    server.shutdown().await;
}
