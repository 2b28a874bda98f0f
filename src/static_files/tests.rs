//! In-process tests of [`StaticFiles::serve`] against a hostile fixture tree.

use super::render::io_error_page;
use super::*;
use http::HeaderValue;
use http_body_util::BodyExt as _;
use std::fs;
use std::time::{Duration, UNIX_EPOCH};
use tempfile::TempDir;

const SECRET: &str = "TOPSECRET";
const TAG: &str = "<script src=\"/__devserve/client.js\"></script>";
const INDEX: &str = "<!DOCTYPE html><html><body><h1>home</h1></body></html>";
const MIB: usize = 1 << 20;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// tmp/
///   secret.txt, outside/inner.txt        (secrets just outside the root)
///   root/ index.html, .env, .git/config, nested/{deeper/file.txt, b.txt, .hidden},
///         site/index.html, "with space.txt", "ünïcødé.txt", big.bin (1 MiB), app.js,
///         page.html (no </body>), link_out → ../secret.txt, dir_out → ../outside,
///         env_link → .env, inner_link → nested/b.txt
struct Fixture {
    tmp: TempDir,
    root: PathBuf,
}

fn big_content() -> Vec<u8> {
    (0..MIB).map(|i| (i % 251) as u8).collect()
}

fn fixture() -> io::Result<Fixture> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("root");
    fs::create_dir_all(root.join("nested/deeper"))?;
    fs::create_dir_all(root.join("site"))?;
    fs::create_dir_all(root.join(".git"))?;
    fs::create_dir_all(tmp.path().join("outside"))?;
    fs::write(tmp.path().join("secret.txt"), format!("{SECRET}-OUTSIDE"))?;
    fs::write(
        tmp.path().join("outside/inner.txt"),
        format!("{SECRET}-DIR"),
    )?;
    fs::write(root.join("index.html"), INDEX)?;
    fs::write(root.join(".env"), format!("{SECRET}-ENV"))?;
    fs::write(root.join(".git/config"), format!("{SECRET}-GIT"))?;
    fs::write(root.join("nested/deeper/file.txt"), "deep")?;
    fs::write(root.join("nested/b.txt"), "bee")?;
    fs::write(root.join("nested/.hidden"), format!("{SECRET}-HIDDEN"))?;
    fs::write(root.join("site/index.html"), "<body>site</body>")?;
    fs::write(root.join("with space.txt"), "space content")?;
    fs::write(root.join("ünïcødé.txt"), "unicode content")?;
    fs::write(root.join("big.bin"), big_content())?;
    fs::write(root.join("app.js"), "console.log(1)")?;
    fs::write(root.join("page.html"), "<p>no body tag</p>")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("../secret.txt", root.join("link_out"))?;
        symlink("../outside", root.join("dir_out"))?;
        symlink(".env", root.join("env_link"))?;
        symlink("nested/b.txt", root.join("inner_link"))?;
    }
    Ok(Fixture { tmp, root })
}

fn service(fx: &Fixture, tweak: impl FnOnce(&mut StaticOptions)) -> io::Result<StaticFiles> {
    let mut opts = StaticOptions::new(&fx.root);
    opts.inject = Some(TAG.into());
    opts.injection_version = "v1".into();
    tweak(&mut opts);
    StaticFiles::new(opts)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send `raw` through `serve` with real `Parts` when `http` accepts the target, otherwise
/// through `serve_raw` with the verbatim string (what hyper hands over).
async fn send_with(
    svc: &StaticFiles,
    method: Method,
    raw: &str,
    hdrs: &[(header::HeaderName, &str)],
) -> Result<Reply, Box<dyn std::error::Error>> {
    let mut builder = http::Request::builder().method(method.clone()).uri(raw);
    for (k, v) in hdrs {
        builder = builder.header(k.clone(), *v);
    }
    let res = match builder.body(()) {
        Ok(req) => {
            let (parts, ()) = req.into_parts();
            svc.serve(&parts).await
        }
        Err(_) => {
            let mut headers = HeaderMap::new();
            for (k, v) in hdrs {
                headers.append(k.clone(), HeaderValue::from_str(v)?);
            }
            let (path, query) = match raw.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (raw, None),
            };
            serve_raw(svc, &method, path, query, &headers).await
        }
    };
    let (parts, body) = res.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = body.collect().await?.to_bytes();
    if method == Method::GET && parts.status != StatusCode::NOT_MODIFIED {
        assert_eq!(declared, Some(body.len()), "Content-Length of {raw}");
    }
    if method == Method::HEAD {
        assert!(body.is_empty(), "HEAD {raw} has a body");
    }
    assert_eq!(
        parts.headers.get(header::X_CONTENT_TYPE_OPTIONS),
        Some(&HeaderValue::from_static("nosniff"))
    );
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// [`StaticFiles::serve`] on the raw pieces (lets tests send targets `http::Uri` would refuse).
async fn serve_raw(
    svc: &StaticFiles,
    method: &Method,
    raw_path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response<ResponseBody> {
    match svc.complete(svc.lookup_raw(method, raw_path, query, headers).await) {
        Outcome::Hit(response) => response,
        Outcome::Miss(miss) => {
            render::miss(miss, method, raw_path, svc.inner.opts.inject.as_deref())
        }
    }
}

async fn get(svc: &StaticFiles, raw: &str) -> Result<Reply, Box<dyn std::error::Error>> {
    send_with(svc, Method::GET, raw, &[]).await
}

#[tokio::test]
async fn hostile_paths_never_leak() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    let abs_secret = fx.tmp.path().join("secret.txt");
    let abs = format!("/{}", abs_secret.display());
    let cases: Vec<(&str, StatusCode)> = vec![
        ("/../secret.txt", StatusCode::BAD_REQUEST),
        ("/../../../../etc/passwd", StatusCode::BAD_REQUEST),
        ("/%2e%2e/secret.txt", StatusCode::BAD_REQUEST),
        ("/%2E%2E/secret.txt", StatusCode::BAD_REQUEST),
        ("/.%2e/secret.txt", StatusCode::BAD_REQUEST),
        ("/..%2fsecret.txt", StatusCode::BAD_REQUEST),
        ("/..%2f..%2fsecret.txt", StatusCode::BAD_REQUEST),
        ("/..\\secret.txt", StatusCode::BAD_REQUEST),
        ("/..\\..\\secret.txt", StatusCode::BAD_REQUEST),
        ("/%5c..%5csecret.txt", StatusCode::BAD_REQUEST),
        ("/%5c../secret.txt", StatusCode::BAD_REQUEST),
        ("/nested/../../secret.txt", StatusCode::BAD_REQUEST),
        ("/nested/%2e%2e/%2e%2e/secret.txt", StatusCode::BAD_REQUEST),
        ("/nested/./../.env", StatusCode::BAD_REQUEST),
        ("/.env/.", StatusCode::BAD_REQUEST),
        ("/a%00.js", StatusCode::BAD_REQUEST),
        ("/.env%00", StatusCode::BAD_REQUEST),
        ("/%FF", StatusCode::BAD_REQUEST),
        ("/%zz", StatusCode::BAD_REQUEST),
        ("/C:/secret.txt", StatusCode::BAD_REQUEST),
        ("/c%3a%5csecret.txt", StatusCode::BAD_REQUEST),
        ("//etc/passwd", StatusCode::NOT_FOUND),
        (&abs, StatusCode::NOT_FOUND),
        ("/.env", StatusCode::NOT_FOUND),
        ("/%2eenv", StatusCode::NOT_FOUND),
        ("/.git/config", StatusCode::NOT_FOUND),
        ("/.git/", StatusCode::NOT_FOUND),
        ("/.git", StatusCode::NOT_FOUND),
        ("/nested/.hidden", StatusCode::NOT_FOUND),
        ("/.env?x=../../", StatusCode::NOT_FOUND),
        ("/does-not-exist.txt", StatusCode::NOT_FOUND),
    ];
    for (raw, want) in &cases {
        for method in [Method::GET, Method::HEAD] {
            let r = send_with(&svc, method.clone(), raw, &[]).await?;
            assert_eq!(r.status, *want, "{method} {raw}");
            assert!(!r.text().contains(SECRET), "{method} {raw} leaked");
        }
    }
    // The server still serves the index afterwards.
    let r = get(&svc, "/").await?;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("<h1>home</h1>"));
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_root_are_refused_unless_enabled() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    for raw in [
        "/link_out",
        "/dir_out/inner.txt",
        "/dir_out/",
        "/dir_out",
        "/env_link",
    ] {
        let r = get(&svc, raw).await?;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{raw}");
        assert!(!r.text().contains(SECRET), "{raw} leaked");
    }
    // A symlink that stays inside the root is fine.
    let r = get(&svc, "/inner_link").await?;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "bee"));

    let open = service(&fx, |o| o.follow_symlinks = true)?;
    let r = get(&open, "/link_out").await?;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), format!("{SECRET}-OUTSIDE"));
    assert_eq!(
        get(&open, "/dir_out/inner.txt").await?.status,
        StatusCode::OK
    );
    // ...but a link to a hidden file stays hidden.
    assert_eq!(get(&open, "/env_link").await?.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn show_hidden_opt_in() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |o| o.show_hidden = true)?;
    let r = get(&svc, "/.env").await?;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), format!("{SECRET}-ENV"));
    assert_eq!(get(&svc, "/.git/config").await?.status, StatusCode::OK);
    // Dot segments remain malformed even then.
    assert_eq!(get(&svc, "/.env/.").await?.status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn methods() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    for m in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let r = send_with(&svc, m.clone(), "/index.html", &[]).await?;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
        assert_eq!(r.header(header::ALLOW), "GET, HEAD");
    }
    Ok(())
}

#[tokio::test]
async fn index_injection_and_head_consistency() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    let g = get(&svc, "/").await?;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(g.text(), INDEX.replace("</body>", &format!("{TAG}</body>")));
    let etag = g.header(header::ETAG).to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(g.header(header::CACHE_CONTROL), "no-cache");

    let h = send_with(&svc, Method::HEAD, "/", &[]).await?;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(
        h.header(header::CONTENT_LENGTH),
        (INDEX.len() + TAG.len()).to_string()
    );
    assert_eq!(h.header(header::ETAG), etag);

    // Same file through /index.html; appended when there is no </body>.
    assert_eq!(get(&svc, "/index.html").await?.text(), g.text());
    assert_eq!(
        get(&svc, "/page.html").await?.text(),
        format!("<p>no body tag</p>{TAG}")
    );

    // 304 with the weak ETag; a Range on injected HTML is ignored (full 200).
    let nm = send_with(&svc, Method::GET, "/", &[(header::IF_NONE_MATCH, &etag)]).await?;
    assert_eq!(nm.status, StatusCode::NOT_MODIFIED);
    assert!(nm.body.is_empty());
    assert_eq!(nm.header(header::ETAG), etag);
    let ranged = send_with(&svc, Method::GET, "/", &[(header::RANGE, "bytes=0-3")]).await?;
    assert_eq!(ranged.status, StatusCode::OK);
    assert_eq!(ranged.text(), g.text());

    // A new injection version invalidates the ETag.
    let svc2 = service(&fx, |o| o.injection_version = "v2".into())?;
    let g2 = get(&svc2, "/").await?;
    assert_ne!(g2.header(header::ETAG), etag);

    // Without injection: strong ETag, raw file.
    let plain = service(&fx, |o| o.inject = None)?;
    let p = get(&plain, "/").await?;
    assert_eq!(p.text(), INDEX);
    assert!(p.header(header::ETAG).starts_with('"'));
    Ok(())
}

#[tokio::test]
async fn conditional_requests() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    let r = get(&svc, "/app.js").await?;
    assert_eq!(
        r.header(header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(r.header(header::ACCEPT_RANGES), "bytes");
    let etag = r.header(header::ETAG).to_owned();
    let lm = r.header(header::LAST_MODIFIED).to_owned();
    assert!(etag.starts_with('"') && !lm.is_empty());

    let list = format!("\"nope\", W/{etag}");
    let r = send_with(
        &svc,
        Method::GET,
        "/app.js",
        &[(header::IF_NONE_MATCH, &list)],
    )
    .await?;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.header(header::ETAG), etag);
    assert_eq!(r.header(header::LAST_MODIFIED), lm);
    let r = send_with(
        &svc,
        Method::HEAD,
        "/app.js",
        &[(header::IF_NONE_MATCH, "*")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = send_with(
        &svc,
        Method::GET,
        "/app.js",
        &[(header::IF_MODIFIED_SINCE, &lm)],
    )
    .await?;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = send_with(
        &svc,
        Method::GET,
        "/app.js",
        &[
            (header::IF_NONE_MATCH, "\"other\""),
            (header::IF_MODIFIED_SINCE, &lm),
        ],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);
    let r = send_with(
        &svc,
        Method::GET,
        "/app.js",
        &[(header::IF_MATCH, "\"other\"")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = send_with(&svc, Method::GET, "/app.js", &[(header::IF_MATCH, &etag)]).await?;
    assert_eq!(r.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn ranges_small_and_streamed() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    let big = big_content();

    let full = get(&svc, "/big.bin").await?;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.header(header::CONTENT_LENGTH), MIB.to_string());
    assert_eq!(full.body.as_ref(), big.as_slice());
    let etag = full.header(header::ETAG).to_owned();

    let h = send_with(
        &svc,
        Method::HEAD,
        "/big.bin",
        &[(header::RANGE, "bytes=0-9")],
    )
    .await?;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.header(header::CONTENT_LENGTH), MIB.to_string());

    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[(header::RANGE, "bytes=1000-1999")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.header(header::CONTENT_RANGE),
        format!("bytes 1000-1999/{MIB}")
    );
    assert_eq!(r.body.as_ref(), &big[1000..2000]);

    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[(header::RANGE, "bytes=-100")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body.as_ref(), &big[MIB - 100..]);

    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[(header::RANGE, "bytes=700000-")],
    )
    .await?;
    assert_eq!(r.body.as_ref(), &big[700_000..]);

    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[(header::RANGE, "bytes=99999999-")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header(header::CONTENT_RANGE), format!("bytes */{MIB}"));

    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[(header::RANGE, "bytes=0-1,5-6")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), MIB);

    // If-Range: matching ETag honours the range, a stale one gets the full file.
    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, &etag)],
    )
    .await?;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    let r = send_with(
        &svc,
        Method::GET,
        "/big.bin",
        &[
            (header::RANGE, "bytes=0-9"),
            (header::IF_RANGE, "\"stale\""),
        ],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);

    // Small (in-memory) file.
    let r = send_with(&svc, Method::GET, "/app.js", &[(header::RANGE, "bytes=8-")]).await?;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.text(), "log(1)");
    assert_eq!(r.header(header::CONTENT_RANGE), "bytes 8-13/14");
    Ok(())
}

#[tokio::test]
async fn folders_redirect_and_list() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    for (raw, want) in [
        ("/nested", "/nested/"),
        ("//nested", "/nested/"),
        ("///nested?x=1&y=%2F", "/nested/?x=1&y=%2F"),
        ("/nested/deeper", "/nested/deeper/"),
        ("/site", "/site/"),
    ] {
        let r = get(&svc, raw).await?;
        assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{raw}");
        let loc = r.header(header::LOCATION);
        assert_eq!(loc, want, "{raw}");
        assert!(!loc.starts_with("//") && !loc.starts_with("/\\"));
    }
    let site = get(&svc, "/site/").await?;
    assert_eq!(site.text(), format!("<body>site{TAG}</body>"));

    let l = get(&svc, "/nested/").await?;
    assert_eq!(l.status, StatusCode::OK);
    assert_eq!(l.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    let html = l.text();
    assert!(html.contains("href=\"./deeper/\""));
    assert!(html.contains("href=\"./b.txt\""));
    assert!(html.contains("href=\"../\""));
    assert!(!html.contains(".hidden"));
    assert!(html.find("deeper/").unwrap_or(usize::MAX) < html.find("b.txt").unwrap_or(0));
    assert!(html.contains(TAG), "listing pages get the reload tag");
    let h = send_with(&svc, Method::HEAD, "/nested/", &[]).await?;
    assert_eq!(h.header(header::CONTENT_LENGTH), l.body.len().to_string());

    // A file is not a folder.
    assert_eq!(get(&svc, "/app.js/").await?.status, StatusCode::NOT_FOUND);

    // Root listing (no index.html) hides dotfiles and outside symlinks.
    fs::remove_file(fx.root.join("index.html"))?;
    let root = get(&svc, "/").await?;
    let html = root.text();
    assert_eq!(root.status, StatusCode::OK);
    assert!(!html.contains(".env") && !html.contains(".git") && !html.contains("../"));
    assert!(html.contains("href=\"./with%20space.txt\""));
    assert!(html.contains("href=\"./%C3%BCn%C3%AFc%C3%B8d%C3%A9.txt\">ünïcødé.txt<"));
    #[cfg(unix)]
    {
        assert!(!html.contains("link_out") && !html.contains("dir_out"));
        assert!(!html.contains("env_link"));
        assert!(html.contains("inner_link"));
    }

    let nolist = service(&fx, |o| o.listing = false)?;
    assert_eq!(
        get(&nolist, "/nested/").await?.status,
        StatusCode::NOT_FOUND
    );
    Ok(())
}

#[tokio::test]
async fn odd_names_and_not_found_page() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    let r = get(&svc, "/with%20space.txt").await?;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::OK, "space content")
    );
    assert_eq!(r.header(header::CONTENT_TYPE), "text/plain; charset=utf-8");
    let r = get(&svc, "/%C3%BCn%C3%AFc%C3%B8d%C3%A9.txt").await?;
    assert_eq!(r.status, StatusCode::OK);
    // Raw UTF-8 in the target (hyper passes it verbatim).
    let r = get(&svc, "/ünïcødé.txt").await?;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::OK, "unicode content")
    );
    // The query string never changes what is served.
    let r = get(&svc, "/app.js?/../.env").await?;
    assert_eq!(r.text(), "console.log(1)");

    let r = get(&svc, "/nope/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await?;
    // `%2F` inside a segment is malformed (400); the page still escapes what it shows.
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = get(&svc, "/%3Cscript%3Ealert(1)%3C.js").await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    let html = r.text();
    assert!(html.contains("404 Not Found"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;.js"));
    assert!(!html.contains("<script>"));
    Ok(())
}

#[tokio::test]
async fn spa_fallback() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |o| o.spa = true)?;
    let r = send_with(
        &svc,
        Method::GET,
        "/app/users/42",
        &[(header::ACCEPT, "text/html,*/*;q=0.8")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("<h1>home</h1>") && r.text().contains(TAG));
    let h = send_with(&svc, Method::HEAD, "/app/users/42", &[]).await?;
    assert_eq!(h.header(header::CONTENT_LENGTH), r.body.len().to_string());

    assert_eq!(
        get(&svc, "/missing.js").await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&svc, "/.env").await?.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&svc, "/../x").await?.status, StatusCode::BAD_REQUEST);
    let json = send_with(
        &svc,
        Method::GET,
        "/api/users",
        &[(header::ACCEPT, "application/json")],
    )
    .await?;
    assert_eq!(json.status, StatusCode::NOT_FOUND);
    let post = send_with(&svc, Method::POST, "/app/route", &[]).await?;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    // Existing files still win.
    assert_eq!(get(&svc, "/app.js").await?.text(), "console.log(1)");

    let off = service(&fx, |_| {})?;
    assert_eq!(
        get(&off, "/app/users/42").await?.status,
        StatusCode::NOT_FOUND
    );
    Ok(())
}

#[tokio::test]
async fn pre_epoch_mtime_does_not_panic() -> TestResult {
    let fx = fixture()?;
    let f = fs::File::options()
        .write(true)
        .open(fx.root.join("app.js"))?;
    if let Some(t) = UNIX_EPOCH.checked_sub(Duration::from_secs(86_400)) {
        if f.set_modified(t).is_ok() {
            let svc = service(&fx, |_| {})?;
            let r = get(&svc, "/app.js").await?;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.headers.get(header::LAST_MODIFIED).is_none());
        }
    }
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn unreadable_file_is_403() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let fx = fixture()?;
    let path = fx.root.join("locked.txt");
    fs::write(&path, "x")?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000))?;
    // The mapping itself, which holds whoever runs the tests.
    let denied = io::Error::from(io::ErrorKind::PermissionDenied);
    assert_eq!(
        io_error_page(&denied, &path, false).status(),
        StatusCode::FORBIDDEN
    );
    // End to end where permissions are enforced (root reads everything).
    if fs::read(&path).is_err() {
        let svc = service(&fx, |_| {})?;
        assert_eq!(
            get(&svc, "/locked.txt").await?.status,
            StatusCode::FORBIDDEN
        );
    }
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn fifo_is_not_served() -> TestResult {
    let fx = fixture()?;
    let made = std::process::Command::new("mkfifo")
        .arg(fx.root.join("pipe"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let svc = service(&fx, |_| {})?;
    assert_eq!(get(&svc, "/pipe").await?.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn url_path_for_maps_back() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |_| {})?;
    let canon = svc.root().to_path_buf();
    assert_eq!(svc.url_path_for(&canon).as_deref(), Some("/"));
    assert_eq!(
        svc.url_path_for(&canon.join("nested/b.txt")).as_deref(),
        Some("/nested/b.txt")
    );
    assert_eq!(
        svc.url_path_for(&fx.root.join("with space.txt")).as_deref(),
        Some("/with%20space.txt")
    );
    assert_eq!(
        svc.url_path_for(&fx.root.join("gone/deleted.css"))
            .as_deref(),
        Some("/gone/deleted.css")
    );
    assert_eq!(svc.url_path_for(&fx.root.join(".env")), None);
    assert_eq!(svc.url_path_for(&fx.root.join(".git/config")), None);
    assert_eq!(svc.url_path_for(&fx.tmp.path().join("secret.txt")), None);
    assert_eq!(svc.url_path_for(&fx.root.join("../secret.txt")), None);
    let shown = service(&fx, |o| o.show_hidden = true)?;
    assert_eq!(
        shown.url_path_for(&fx.root.join(".env")).as_deref(),
        Some("/.env")
    );
    Ok(())
}

#[test]
fn new_rejects_missing_or_file_roots() -> io::Result<()> {
    let fx = fixture()?;
    assert!(StaticFiles::new(StaticOptions::new(fx.root.join("nope"))).is_err());
    assert!(StaticFiles::new(StaticOptions::new(fx.root.join("app.js"))).is_err());
    Ok(())
}

/// A service whose cache is on (as when a native watcher vouches for the root).
fn cached_service(
    fx: &Fixture,
    budget: usize,
    tweak: impl FnOnce(&mut StaticOptions),
) -> Result<StaticFiles, Box<dyn std::error::Error>> {
    let mut opts = StaticOptions::new(&fx.root);
    opts.inject = Some(TAG.into());
    opts.injection_version = "v1".into();
    tweak(&mut opts);
    let svc = StaticFiles::with_cache_budget(opts, budget)?;
    let ignore =
        crate::watch::filter::IgnoreMatcher::new(&[]).map_err(|(p, e)| format!("{p}: {e}"))?;
    svc.enable_cache(ignore);
    Ok(svc)
}

fn parts(method: Method, uri: &str) -> Result<Parts, http::Error> {
    Ok(http::Request::builder()
        .method(method)
        .uri(uri)
        .body(())?
        .into_parts()
        .0)
}

#[tokio::test]
async fn lookup_leaves_misses_to_the_caller() -> TestResult {
    let fx = fixture()?;
    let svc = service(&fx, |o| o.spa = true)?;
    for (method, uri) in [
        (Method::POST, "/api/items"),
        (Method::DELETE, "/index.html"),
    ] {
        let req = parts(method, uri)?;
        assert!(matches!(
            svc.lookup(&req).await,
            Outcome::Miss(Miss::MethodNotAllowed)
        ));
        let page = svc.render_miss(Miss::MethodNotAllowed, &req);
        assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(page.headers()[header::ALLOW], "GET, HEAD");
    }
    let missing = parts(Method::GET, "/missing.js")?;
    assert!(matches!(
        svc.lookup(&missing).await,
        Outcome::Miss(Miss::NotFound)
    ));
    let page = svc.render_miss(Miss::NotFound, &missing);
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let text = page.into_body().collect().await?.to_bytes();
    assert!(String::from_utf8_lossy(&text).contains("<code>/missing.js</code>"));
    // Everything the files answer themselves is a hit, errors included.
    for (uri, status) in [
        ("/app.js", StatusCode::OK),
        ("/app/route", StatusCode::OK),
        ("/nested", StatusCode::PERMANENT_REDIRECT),
        ("/nested/", StatusCode::OK),
        ("/%2e%2e/secret.txt", StatusCode::BAD_REQUEST),
    ] {
        match svc.lookup(&parts(Method::GET, uri)?).await {
            Outcome::Hit(response) => assert_eq!(response.status(), status, "{uri}"),
            Outcome::Miss(miss) => panic!("{uri}: {miss:?}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn many_spellings_of_one_path_make_one_cache_entry() -> TestResult {
    let fx = fixture()?;
    let svc = cached_service(&fx, cache::DEFAULT_BUDGET, |_| {})?;
    let cache = &svc.inner.cache;
    let first = get(&svc, "/index.html").await?;
    assert_eq!(cache.counts(), (1, 1));
    let charged = cache.bytes();
    let mut spellings: Vec<String> = (1..200)
        .map(|n| format!("{}index.html", "/".repeat(n)))
        .collect();
    spellings.extend([
        "/%69ndex.html".into(),
        "//index%2Ehtml".into(),
        "/index%2ehtml".into(),
    ]);
    for raw in &spellings {
        let r = get(&svc, raw).await?;
        assert_eq!((r.status, &r.body), (StatusCode::OK, &first.body), "{raw}");
    }
    assert_eq!(cache.counts(), (1, 1), "spellings of /index.html");
    assert_eq!(cache.bytes(), charged);
    // Different routes to the same file share its entry.
    get(&svc, "/").await?;
    get(&svc, "///").await?;
    assert_eq!(cache.counts(), (2, 1));
    Ok(())
}

#[tokio::test]
async fn cache_stays_within_its_budget_under_a_flood_of_files() -> TestResult {
    let fx = fixture()?;
    let flood = fx.root.join("flood");
    fs::create_dir(&flood)?;
    for i in 0..300 {
        fs::write(flood.join(format!("f{i}.txt")), vec![b'x'; 1000 + i])?;
    }
    let budget = 20 * 1024;
    let svc = cached_service(&fx, budget, |o| o.spa = true)?;
    let cache = &svc.inner.cache;
    for i in 0..300 {
        let r = get(&svc, &format!("/flood/f{i}.txt")).await?;
        assert_eq!(r.body.len(), 1000 + i);
        let spa = get(&svc, &format!("/app/route/{i}")).await?;
        assert_eq!(spa.status, StatusCode::OK);
        assert!(
            cache.bytes() <= budget,
            "{} > {budget} after {i}",
            cache.bytes()
        );
    }
    let (routes, files) = cache.counts();
    assert!(
        routes > 0 && files <= routes,
        "{routes} routes, {files} files"
    );
    // The most recent file is still answered from memory.
    assert!(cache.get(b"/flood/f299.txt", false).is_some());
    svc.invalidate();
    assert_eq!((cache.bytes(), cache.counts()), (0, (0, 0)));
    Ok(())
}

#[tokio::test]
async fn cached_answers_match_fresh_ones() -> TestResult {
    let fx = fixture()?;
    let fresh = service(&fx, |o| o.spa = true)?;
    let cached = cached_service(&fx, cache::DEFAULT_BUDGET, |o| o.spa = true)?;
    let etag = get(&fresh, "/app.js")
        .await?
        .header(header::ETAG)
        .to_owned();
    let html_etag = get(&fresh, "/").await?.header(header::ETAG).to_owned();
    type Case<'a> = (Method, &'a str, Vec<(header::HeaderName, &'a str)>);
    let cases: Vec<Case<'_>> = vec![
        (Method::GET, "/app.js", vec![]),
        (Method::GET, "/app.js", vec![(header::RANGE, "bytes=2-5")]),
        (Method::GET, "/app.js", vec![(header::RANGE, "bytes=99-")]),
        (Method::GET, "/app.js", vec![(header::IF_NONE_MATCH, &etag)]),
        (Method::GET, "/app.js", vec![(header::IF_MATCH, "\"nope\"")]),
        (Method::HEAD, "/app.js", vec![]),
        (Method::GET, "/", vec![]),
        (Method::GET, "/", vec![(header::IF_NONE_MATCH, &html_etag)]),
        (Method::HEAD, "/index.html", vec![]),
        (Method::GET, "/app/deep/route", vec![]),
        (
            Method::GET,
            "/app/deep/route",
            vec![(header::ACCEPT, "application/json")],
        ),
    ];
    // Twice on the cached service: the first fills the cache, the second is a hit.
    for (method, uri, hdrs) in &cases {
        let want = send_with(&fresh, method.clone(), uri, hdrs).await?;
        for round in 0..2 {
            let got = send_with(&cached, method.clone(), uri, hdrs).await?;
            let what = format!("{method} {uri} {hdrs:?} (round {round})");
            assert_eq!(got.status, want.status, "{what}");
            assert_eq!(got.headers, want.headers, "{what}");
            assert_eq!(got.body, want.body, "{what}");
        }
    }
    assert!(cached.inner.cache.counts().0 > 0, "the cache was used");
    Ok(())
}

#[tokio::test]
async fn every_answer_carries_the_options_headers_and_vary_where_it_may_be_encoded() -> TestResult {
    let fx = fixture()?;
    fs::write(fx.root.join("large.js"), "console.log(2);\n".repeat(200))?;
    fs::write(fx.root.join("large.png"), vec![7u8; 4096])?;
    let extra = header::HeaderName::from_static("x-extra");
    let tweak = |o: &mut StaticOptions| {
        o.vary_encoding = true;
        o.headers = vec![
            (extra.clone(), HeaderValue::from_static("1")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
    };
    let fresh = service(&fx, tweak)?;
    let cached = cached_service(&fx, cache::DEFAULT_BUDGET, tweak)?;
    let etag = get(&fresh, "/large.js")
        .await?
        .header(header::ETAG)
        .to_owned();
    // (method, path, request headers, whether the answer says it varies by encoding)
    type Case<'a> = (Method, &'a str, Vec<(header::HeaderName, &'a str)>, bool);
    let cases: Vec<Case<'_>> = vec![
        (Method::GET, "/large.js", vec![], true),
        (Method::GET, "/large.png", vec![], false),
        (Method::GET, "/app.js", vec![], false),
        (Method::HEAD, "/large.js", vec![], false),
        (
            Method::GET,
            "/large.js",
            vec![(header::RANGE, "bytes=0-9")],
            false,
        ),
        (
            Method::GET,
            "/large.js",
            vec![(header::IF_NONE_MATCH, &etag)],
            false,
        ),
        (Method::GET, "/nested/", vec![], false),
        (Method::GET, "/nested", vec![], false),
        (Method::GET, "/missing.txt", vec![], false),
    ];
    for (method, uri, hdrs, varies) in &cases {
        let want = send_with(&fresh, method.clone(), uri, hdrs).await?;
        let what = format!("{method} {uri} {hdrs:?}");
        assert_eq!(want.header(extra.clone()), "1", "{what}");
        assert_eq!(want.header(header::CACHE_CONTROL), "no-store", "{what}");
        assert_eq!(want.headers.contains_key(header::VARY), *varies, "{what}");
        for round in 0..2 {
            let got = send_with(&cached, method.clone(), uri, hdrs).await?;
            assert_eq!(got.status, want.status, "{what} (round {round})");
            assert_eq!(got.headers, want.headers, "{what} (round {round})");
        }
    }
    Ok(())
}

#[tokio::test]
async fn ready_answers_only_a_plain_get_of_a_cached_file_and_as_lookup_would() -> TestResult {
    let fx = fixture()?;
    let svc = cached_service(&fx, cache::DEFAULT_BUDGET, |_| {})?;
    let request = |method: Method, uri: &str, header: Option<(header::HeaderName, &str)>| {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some((name, value)) = header {
            builder = builder.header(name, value);
        }
        builder.body(()).map(|r| r.into_parts().0)
    };
    let plain = request(Method::GET, "/app.js", None)?;
    assert!(svc.ready(&plain).is_none(), "not cached before a lookup");
    let Outcome::Hit(looked_up) = svc.lookup(&plain).await else {
        return Err("a hit".into());
    };
    let ready = svc.ready(&plain).ok_or("ready once cached")?;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.headers(), looked_up.headers());
    assert_eq!(
        ready.into_body().collect().await?.to_bytes(),
        "console.log(1)"
    );
    let etag = looked_up.headers()[header::ETAG].to_str()?.to_owned();
    let others = [
        request(Method::HEAD, "/app.js", None)?,
        request(Method::GET, "/app.js", Some((header::RANGE, "bytes=0-1")))?,
        request(Method::GET, "/app.js", Some((header::IF_NONE_MATCH, &etag)))?,
        request(Method::GET, "/index.html", None)?,
    ];
    for parts in &others {
        let _ = svc.lookup(parts).await;
        assert!(
            svc.ready(parts).is_none(),
            "{} {:?}",
            parts.method,
            parts.headers
        );
    }
    Ok(())
}
