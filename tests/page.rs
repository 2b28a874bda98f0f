//! The page side over plain HTTP (no browser): the open-in-editor endpoint's answers, the
//! default favicon, and the reload client in 404 pages and listings.

use crate::common::*;
use devserve::{Config, Server};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

async fn start(root: &Path, adjust: impl FnOnce(&mut Config)) -> Server {
    start_server(root, adjust).await
}

/// The token the served client carries.
async fn token(addr: SocketAddr) -> String {
    let script = get(addr, "/__devserve/client.js", &[]).await.text();
    let settings = script
        .rsplit_once("})(")
        .and_then(|(_, tail)| tail.strip_suffix(");\n"))
        .expect("the settings at the end of the script");
    let value: serde_json::Value = serde_json::from_str(settings).expect("JSON settings");
    value["token"].as_str().expect("a token").to_string()
}

#[tokio::test]
async fn open_editor_answers_each_request_with_its_status() {
    let site = temp_dir();
    let tools = temp_dir();
    write(site.path(), "src/app.js", "x\n");
    write(tools.path(), "secret.txt", "x\n");
    let log = tools.path().join("args.txt");
    let editor = write(
        tools.path(),
        "editor.sh",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}.tmp'\nmv '{0}.tmp' '{0}'\n",
            log.display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let command = format!("{} --goto {{file}}:{{line}}:{{column}}", editor.display());
    let server = start(site.path(), |c| c.editor = Some(command)).await;
    let addr = server.local_addr();
    let token = token(addr).await;
    let origin = format!("http://{addr}");
    let path = "/__devserve/open-editor";
    let send = |headers: Vec<(&'static str, String)>, body: &str| {
        let body = body.to_string();
        let headers: Vec<(&str, String)> = headers;
        async move {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            post(addr, path, &pairs, body.as_bytes()).await.status
        }
    };
    let good = |tok: &str| {
        vec![
            ("Origin", origin.clone()),
            ("X-Devserve-Token", tok.to_string()),
        ]
    };
    let body = r#"{"file":"src/app.js","line":2,"column":7}"#;

    assert_eq!(get(addr, path, &[]).await.status, 405, "GET");
    assert_eq!(send(good("wrong"), body).await, 403, "a wrong token");
    assert_eq!(
        send(vec![("X-Devserve-Token", token.clone())], body).await,
        403,
        "no origin"
    );
    let cross = vec![
        ("Origin", "http://evil.test".to_string()),
        ("X-Devserve-Token", token.clone()),
    ];
    assert_eq!(send(cross, body).await, 403, "another origin");
    let site_header = vec![
        ("Sec-Fetch-Site", "same-site".to_string()),
        ("Origin", origin.clone()),
        ("X-Devserve-Token", token.clone()),
    ];
    assert_eq!(
        send(site_header, body).await,
        403,
        "Sec-Fetch-Site other than same-origin"
    );
    assert_eq!(
        send(good(&token), r#"{"file":"src/app.js"}"#).await,
        400,
        "no line"
    );
    assert_eq!(send(good(&token), "{").await, 400, "not JSON");
    assert_eq!(
        send(good(&token), r#"{"file":"src/none.js","line":1}"#).await,
        404,
        "no such file"
    );
    let secret = tools.path().join("secret.txt");
    let outside = &serde_json::json!({ "file": secret, "line": 1 }).to_string();
    assert_eq!(
        send(good(&token), outside).await,
        403,
        "outside the served folder"
    );
    assert!(!log.exists(), "nothing refused started the editor");

    let same = vec![
        ("Sec-Fetch-Site", "same-origin".to_string()),
        ("X-Devserve-Token", token.clone()),
    ];
    assert_eq!(
        send(same, body).await,
        204,
        "a same-origin request with the token"
    );
    let deadline = Instant::now() + WAIT;
    while !log.exists() {
        assert!(Instant::now() < deadline, "the editor did not run");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let file = site.path().canonicalize().expect("root").join("src/app.js");
    let args = std::fs::read_to_string(&log).expect("args");
    assert_eq!(args, format!("--goto\n{}:2:7\n", file.display()));
    server.shutdown().await;
}

#[tokio::test]
async fn default_favicon_gives_way_to_the_folders_own() {
    let site = temp_dir();
    let server = start(site.path(), |_| {}).await;
    let addr = server.local_addr();
    let icon = get(addr, "/favicon.ico", &[]).await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/x-icon"));
    assert_eq!(&icon.body[..4], b"\0\0\x01\0", "an ICO file");
    let etag = icon.header("etag").expect("an ETag").to_string();
    assert_eq!(
        get(addr, "/favicon.ico", &[("If-None-Match", &etag)])
            .await
            .status,
        304
    );
    let head = raw(addr, &request("HEAD", addr, "/favicon.ico", &[], b"")).await;
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(
        post(addr, "/favicon.ico", &[], b"").await.status,
        405,
        "still GET/HEAD only"
    );
    write(site.path(), "favicon.ico", "mine");
    assert_eq!(get(addr, "/favicon.ico", &[]).await.text(), "mine");
    server.shutdown().await;
}

#[tokio::test]
async fn not_found_pages_and_listings_carry_the_reload_client() {
    let site = temp_dir();
    write(site.path(), "dir/a.txt", "a");
    let server = start(site.path(), |_| {}).await;
    let addr = server.local_addr();
    let tag = "<script src=\"/__devserve/client.js\"></script>";
    let missing = get(addr, "/later.html", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().contains(&format!("{tag}</body>")),
        "{}",
        missing.text()
    );
    let listing = get(addr, "/dir/?sort=date&order=desc", &[]).await;
    assert!(listing.text().contains(tag));
    assert!(listing.text().contains("Modified (UTC)"));
    server.shutdown().await;

    let server = start(site.path(), |c| c.serve.inject = false).await;
    let missing = get(server.local_addr(), "/later.html", &[]).await;
    assert!(
        !missing.text().contains("<script"),
        "no client without injection"
    );
    server.shutdown().await;
}
