//! Real hot module replacement: `webpack --watch` writes a webpack 5
//! project's bundle into a temp folder that `devserve --hot` serves, and
//! headless Chromium checks that edits apply in place (tests/node/hmr.mjs),
//! with webpack-dev-server 5's client over WebSocket and over SockJS at `/ws`.

use crate::common::*;
use std::time::Duration;

fn webpack_ready() -> bool {
    repo().join("node_modules/.bin/webpack").exists()
        && repo()
            .join("node_modules/webpack-dev-server/client/index.js")
            .exists()
}

#[tokio::test]
async fn webpack_hmr_updates_in_place_over_both_wds5_transports() {
    if !require("chromium and playwright-core", chromium_ready())
        || !require("webpack (npm ci --no-audit --no-fund)", webpack_ready())
    {
        return;
    }
    let (ok, output) = run_node(
        "hmr.mjs",
        &[("DEVSERVE_BIN", env!("CARGO_BIN_EXE_devserve").to_string())],
        Duration::from_secs(280),
    )
    .await;
    println!("{output}");
    assert!(
        ok,
        "hot module replacement through devserve failed:\n{output}"
    );
}
