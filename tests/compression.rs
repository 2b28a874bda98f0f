//! Compression of the static files, checked with curl and raw requests:
//! negotiated encodings, per-encoding entity tags that still revalidate,
//! and everything that must never be compressed.

use crate::common::*;
use devserve::Server;
use std::path::Path;

async fn start(root: &Path, compress: bool) -> Server {
    Server::builder()
        .root(root)
        .bind("127.0.0.1:0".parse().expect("addr"))
        .compress(compress)
        .start()
        .await
        .expect("server starts")
}

fn site() -> (tempfile::TempDir, String) {
    let root = temp_dir();
    let script: String = (0..400)
        .map(|i| format!("console.log('line {i} of a bundle');\n"))
        .collect();
    write(root.path(), "app.js", &script);
    write(root.path(), "tiny.js", "let a = 1;\n");
    write(
        root.path(),
        "index.html",
        &format!("<html><body><pre>{script}</pre></body></html>"),
    );
    std::fs::write(root.path().join("photo.png"), vec![7u8; 8192]).expect("png");
    (root, script)
}

/// curl's output, which must succeed.
async fn curl_ok(args: &[&str]) -> Vec<u8> {
    let output = curl(args).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[tokio::test]
async fn text_is_compressed_as_the_browser_prefers_and_decodes_to_the_file() {
    let (root, script) = site();
    let server = start(root.path(), true).await;
    let addr = server.local_addr();
    let url = format!("http://{addr}/app.js");

    let br = get(
        addr,
        "/app.js",
        &[("Accept-Encoding", "gzip, deflate, br, zstd")],
    )
    .await;
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    assert!(br.body.len() < script.len() / 4, "{} bytes", br.body.len());
    let gz = get(addr, "/app.js", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let plain = get(addr, "/app.js", &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.text(), script);

    // Distinct tags per encoding.
    let tags = [br.header("etag"), gz.header("etag"), plain.header("etag")];
    assert!(tags.iter().all(Option::is_some));
    assert_ne!(tags[0], tags[1]);
    assert_ne!(tags[0], tags[2]);

    // curl decodes what devserve encoded (twice: encoded, then from the cache).
    for _ in 0..2 {
        let decoded = curl_ok(&["--compressed", &url]).await;
        assert_eq!(String::from_utf8_lossy(&decoded), script);
    }
    // A bundle too big to hold in memory is compressed as it streams.
    let bundle: String = (0..20_000).map(|i| format!("var v{i} = {i};\n")).collect();
    write(root.path(), "bundle.js", &bundle);
    let streamed = get(addr, "/bundle.js", &[("Accept-Encoding", "br")]).await;
    assert_eq!(streamed.header("content-encoding"), Some("br"));
    assert!(streamed.body.len() < bundle.len() / 4);
    let decoded = curl_ok(&["--compressed", &format!("http://{addr}/bundle.js")]).await;
    assert_eq!(decoded.len(), bundle.len());
    assert!(decoded == bundle.as_bytes());
    // An injected HTML page is compressed too, client tag included.
    let page = curl_ok(&["--compressed", &format!("http://{addr}/")]).await;
    assert!(String::from_utf8_lossy(&page).contains("/__devserve/client.js"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_variant_tag_revalidates_to_304() {
    let (root, _) = site();
    let server = start(root.path(), true).await;
    let addr = server.local_addr();
    let first = get(addr, "/app.js", &[("Accept-Encoding", "br")]).await;
    let tag = first.header("etag").expect("etag").to_string();
    assert!(tag.ends_with("-br\""), "{tag}");
    let again = get(
        addr,
        "/app.js",
        &[("Accept-Encoding", "br"), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    // The brotli variant's tag does not validate the gzip variant.
    let other = get(
        addr,
        "/app.js",
        &[("Accept-Encoding", "gzip"), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(other.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn ranges_small_files_images_head_and_live_reload_are_never_compressed() {
    let (root, script) = site();
    let server = start(root.path(), true).await;
    let addr = server.local_addr();
    let br = [("Accept-Encoding", "br, gzip")];

    let range = get(addr, "/app.js", &[br[0], ("Range", "bytes=0-99")]).await;
    assert_eq!(range.status, 206);
    assert_eq!(range.header("content-encoding"), None);
    assert_eq!(range.text(), script[..100]);
    for path in ["/tiny.js", "/photo.png"] {
        let response = get(addr, path, &br).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("content-encoding"), None, "{path}");
    }
    let head = raw(addr, &request("HEAD", addr, "/app.js", &br, b"")).await;
    assert_eq!(head.header("content-encoding"), None);
    let info = get(addr, "/sockjs-node/info", &br).await;
    assert_eq!(info.header("content-encoding"), None);
    let mut stream = stream_raw(
        addr,
        &request(
            "POST",
            addr,
            &format!("/sockjs-node/000/{}/xhr_streaming", session_id()),
            &br,
            b"",
        ),
    )
    .await;
    assert_eq!(stream.header("content-encoding"), None);
    assert!(stream.chunk().await.is_some());
    server.shutdown().await;
}

/// Every `Vary` value of `response`.
fn vary_values(response: &RawResponse) -> Vec<&str> {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("vary"))
        .map(|(_, value)| value.as_str())
        .collect()
}

#[tokio::test]
async fn a_file_says_once_that_it_varies_whether_read_cached_head_or_revalidated() {
    let (root, script) = site();
    let server = start(root.path(), true).await;
    let addr = server.local_addr();
    // The first answer reads the file, later ones come from the cache.
    for round in 0..3 {
        let plain = get(addr, "/app.js", &[]).await;
        assert_eq!(plain.text(), script, "round {round}");
        assert_eq!(vary_values(&plain), ["accept-encoding"], "round {round}");
        let br = get(addr, "/app.js", &[("Accept-Encoding", "br")]).await;
        assert_eq!(br.header("content-encoding"), Some("br"), "round {round}");
        assert_eq!(vary_values(&br), ["accept-encoding"], "round {round}");
        let png = get(addr, "/photo.png", &[("Accept-Encoding", "br")]).await;
        assert!(vary_values(&png).is_empty(), "round {round}");

        let br_only = [("Accept-Encoding", "br")];
        let head = raw(addr, &request("HEAD", addr, "/app.js", &br_only, b"")).await;
        assert_eq!(head.status, 200, "round {round}");
        assert_eq!(
            vary_values(&head),
            ["accept-encoding"],
            "HEAD, round {round}"
        );
        let tag = br.header("etag").expect("a tag");
        let revalidate = [("Accept-Encoding", "br"), ("If-None-Match", tag)];
        let not_modified = get(addr, "/app.js", &revalidate).await;
        assert_eq!(not_modified.status, 304, "round {round}");
        assert_eq!(
            vary_values(&not_modified),
            ["accept-encoding"],
            "304, round {round}"
        );
        let range = [("Accept-Encoding", "br"), ("Range", "bytes=0-9")];
        let part = get(addr, "/app.js", &range).await;
        assert_eq!(part.status, 206, "round {round}");
        assert_eq!(part.header("content-encoding"), None, "round {round}");
        // A range is always of the file as it is, whatever the request accepts.
        assert!(vary_values(&part).is_empty(), "206, round {round}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn no_compress_serves_everything_as_it_is() {
    let (root, script) = site();
    let server = start(root.path(), false).await;
    let addr = server.local_addr();
    let response = get(addr, "/app.js", &[("Accept-Encoding", "br, gzip")]).await;
    assert_eq!(response.header("content-encoding"), None);
    assert_eq!(response.header("vary"), None);
    assert_eq!(response.text(), script);
    server.shutdown().await;
}
