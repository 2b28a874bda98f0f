//! Build tools in front of devserve: the library handle, the fallback
//! service, change-set subscription, and `--exec` driving a real command.

use crate::common::*;
use devserve::{Overlay, Server};
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn the_handle_drives_every_browser() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>hi</p>");
    let server = Server::builder()
        .root(root.path())
        .bind("127.0.0.1:0".parse().expect("addr"))
        .overlay(Overlay {
            errors: true,
            warnings: true,
        })
        .progress(true)
        .reload_on_change(false)
        .fallback(|req| async move {
            http::Response::new(devserve::body::full(format!(
                "api answered {}",
                req.uri().path()
            )))
        })
        .start()
        .await
        .expect("start");
    let addr = server.local_addr();
    let mut a = LiveClient::connect(addr).await;
    let mut b = LiveClient::connect(addr).await;
    for client in [&mut a, &mut b] {
        let greeting = client.until_status().await;
        assert_eq!(
            types(&greeting),
            [
                "log-level",
                "liveReload",
                "progress",
                "overlay",
                "heartbeat",
                "hash",
                "ok"
            ]
        );
    }
    assert_eq!(server.client_count(), 2);
    let handle = server.handle();
    assert_eq!(handle.invalid(), 2);
    handle.progress(42, "bundling");
    handle.ok("a1b2c3");
    for client in [&mut a, &mut b] {
        let build = client.until_status().await;
        assert_eq!(types(&build), ["invalid", "progress-update", "hash", "ok"]);
        assert_eq!(
            build[1]["data"],
            serde_json::json!({"percent": 42, "msg": "bundling"})
        );
        assert_eq!(build[2]["data"], "a1b2c3");
    }
    handle.errors(
        "d4",
        vec!["src/app.js:3:7 \u{1b}[31merror\u{1b}[0m: unexpected token".into()],
    );
    let failed = a.until_status().await;
    assert_eq!(types(&failed), ["hash", "errors"]);
    assert!(failed[1]["data"][0]
        .as_str()
        .expect("text")
        .contains("src/app.js:3:7"));
    handle.warnings("e5", vec!["unused variable".into()]);
    assert_eq!(types(&a.until_status().await), ["hash", "warnings"]);
    handle.broadcast(devserve::Message::StillOk);
    assert_eq!(a.message().await["type"], "still-ok");

    // A file change is reported to subscribers, not announced to browsers.
    let mut changes = server.changes();
    write(root.path(), "style.css", "a {}");
    let set = tokio::time::timeout(WAIT, changes.recv())
        .await
        .expect("change set")
        .expect("open");
    assert!(
        set.paths.iter().any(|p| p.ends_with("style.css")),
        "{set:?}"
    );
    assert_eq!(types(&b.until_status().await), ["hash", "errors"]);
    assert_eq!(types(&b.until_status().await), ["hash", "warnings"]);
    assert_eq!(b.message().await["type"], "still-ok");
    assert!(
        b.silent_for(Duration::from_millis(300)).await,
        "nothing announced by itself"
    );

    // The fallback answers what the files do not.
    assert_eq!(
        get(addr, "/api/items", &[]).await.text(),
        "api answered /api/items"
    );
    assert!(get(addr, "/", &[]).await.text().contains("<p>hi</p>"));
    server.shutdown().await;
}

fn builds(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("builds.log"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

async fn wait_for_builds(dir: &Path, count: usize) {
    assert!(
        eventually(WAIT, || builds(dir) >= count).await,
        "build {count} never ran"
    );
}

const BUILD_SCRIPT: &str = r#"#!/bin/sh
echo started >> builds.log
sleep "$(cat delay 2>/dev/null || echo 0)"
if grep -q FAIL src/app.txt; then
  printf 'src/app.txt:1: \033[31merror\033[0m: found FAIL\n' >&2
  exit 3
fi
mkdir -p dist
cp src/app.txt dist/app.js
for i in 1 2 3 4 5; do echo "chunk $i" > dist/chunk-$i.js; done
echo built
"#;

#[tokio::test]
async fn exec_runs_the_build_and_reports_it() {
    let dir = temp_dir();
    let base = dir.path();
    write(base, "src/app.txt", "console.log(1)");
    write(base, "dist/index.html", "<p>app</p>");
    write(base, "build.sh", BUILD_SCRIPT);
    let mut devserve = spawn_cli(&["dist", "--watch", "src", "--exec", "sh build.sh"], base).await;
    // Once the first build is reported, a new client's greeting holds its
    // result and whatever comes next belongs to later builds.
    devserve.line(|l| l.contains("succeeded in")).await;
    assert_eq!(builds(base), 1);
    let mut client = LiveClient::connect(devserve.addr).await;
    client.until_status().await;

    // A source change: one build, announced once; its output folds into it.
    write(base, "src/app.txt", "console.log(2)");
    let build = client.until_status().await;
    assert_eq!(types(&build), ["invalid", "hash", "ok"]);
    assert!(
        client.silent_for(Duration::from_millis(600)).await,
        "the build's own output caused another reload"
    );
    assert_eq!(builds(base), 2);
    assert_eq!(
        std::fs::read_to_string(base.join("dist/app.js")).expect("output"),
        "console.log(2)"
    );

    // A failing build: errors with the command's output, ANSI kept; no reload.
    write(base, "src/app.txt", "FAIL");
    let failed = client.until_status().await;
    assert_eq!(types(&failed), ["invalid", "hash", "errors"]);
    let report = failed[2]["data"][0].as_str().expect("report");
    assert!(
        report.contains("src/app.txt:1: \u{1b}[31merror\u{1b}[0m: found FAIL"),
        "{report}"
    );
    assert!(report.contains("code 3"), "{report}");

    // Changes during a build queue exactly one more build.
    std::fs::write(base.join("delay"), "1").expect("delay");
    let before = builds(base);
    write(base, "src/app.txt", "console.log(3)");
    wait_for_builds(base, before + 1).await;
    for i in 0..3 {
        write(base, "src/app.txt", &format!("console.log(4{i})"));
    }
    let mut statuses = 0;
    while statuses < 2 {
        let messages = client.until_status().await;
        statuses += messages.iter().filter(|m| m["type"] == "ok").count();
    }
    assert!(
        client.silent_for(Duration::from_millis(1500)).await,
        "more builds than changes asked for"
    );
    assert_eq!(
        builds(base),
        before + 2,
        "one build for the change, exactly one more for those during it"
    );
}

#[tokio::test]
async fn exec_flags_are_checked() {
    let dir = temp_dir();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_devserve"))
        .arg(dir.path())
        .args(["--exec", " "])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--exec needs a command"));
}
