//! The outside tools some tests need: Node with the npm test dependencies,
//! Chromium, nginx. A missing tool FAILS its test with the command that
//! installs it, unless `DEVSERVE_SKIP_BROWSER=1` opts out; a skipped test is
//! then listed in [`skipped_file`], which `.ci/run` prints in its summary
//! (cargo hides the output of passing tests, so a skip must leave a trace).

use super::repo;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Set to 1 to skip (not fail) the tests whose tools are missing.
const OPT_OUT: &str = "DEVSERVE_SKIP_BROWSER";
/// The oldest Node major version playwright-core runs on.
const NODE_MAJOR: u32 = 20;
/// The npm packages the Node scripts load (package.json's devDependencies).
const NPM_PACKAGES: [&str; 3] = ["sockjs-client", "playwright-core", "webpack-dev-server-3"];
const CHROMIUM: &str = "/usr/bin/chromium";

/// Where skipped tests are listed, one line each (inside the target folder).
fn skipped_file() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("devserve-skipped.txt")
}

/// Whether a test that needs `what` should run: `true` when `available`.
/// Otherwise it panics with the install commands, or, when the user opted
/// out with `DEVSERVE_SKIP_BROWSER=1`, records the skip and returns `false`.
pub fn require(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    let help = install_help(what).join("\n  ");
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if std::env::var_os(OPT_OUT).is_some_and(|v| v == "1") {
        let line = format!("SKIPPED {test}: {what} missing ({OPT_OUT}=1)");
        eprintln!("{line}");
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(skipped_file())
        {
            let _ = writeln!(file, "{line}");
        }
        return false;
    }
    panic!(
        "{test} needs {what}, which this machine lacks. Install it with:\n  {help}\n\
         (or set {OPT_OUT}=1 to skip the tests that need Node, Chromium or nginx)"
    );
}

/// The commands that install what `what` needs and this machine lacks.
fn install_help(what: &str) -> Vec<String> {
    let mut help = Vec::new();
    if what.contains("nginx") && nginx_binary().is_none() {
        help.push("apt-get install -y nginx-light".to_string());
    }
    if what.contains("chromium") && !Path::new(CHROMIUM).exists() {
        help.push("apt-get install -y chromium".to_string());
    }
    if what.contains("chromium") || what.contains("node") {
        match node_major() {
            None => help.push(format!(
                "apt-get install -y nodejs npm   (Node {NODE_MAJOR} or newer)"
            )),
            Some(major) if major < NODE_MAJOR && what.contains("chromium") => help.push(format!(
                "Node {major} is too old for playwright-core: install Node {NODE_MAJOR} or newer"
            )),
            Some(_) => {}
        }
        let node = node_major().is_some();
        if node && !works("npm") {
            help.push("apt-get install -y npm".to_string());
        } else if node && !npm_installed() {
            help.push(format!(
                "cd {} && npm ci --no-audit --no-fund",
                repo().display()
            ));
        }
    }
    if help.is_empty() {
        help.push("see .ci/run, which installs every tool the tests need".to_string());
    }
    help
}

fn works(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Node's major version, if Node runs.
fn node_major() -> Option<u32> {
    let output = Command::new("node").arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout);
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

fn npm_installed() -> bool {
    NPM_PACKAGES
        .iter()
        .all(|p| repo().join("node_modules").join(p).is_dir())
}

/// Whether `node` and the npm test dependencies are available. When Node
/// is there but the dependencies are not, they are installed once with
/// `npm ci` from the lock file.
pub fn node_ready() -> bool {
    static READY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *READY.get_or_init(|| {
        if node_major().is_none() {
            return false;
        }
        if !npm_installed() && works("npm") {
            eprintln!("installing the npm test dependencies (npm ci)…");
            let _ = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(repo())
                .status();
        }
        npm_installed()
    })
}

/// Whether Chromium, a recent enough Node, and playwright-core are installed.
pub fn chromium_ready() -> bool {
    Path::new(CHROMIUM).exists() && node_ready() && node_major().is_some_and(|m| m >= NODE_MAJOR)
}

/// nginx, if installed.
pub fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Run a Node script from `tests/node/` with `env`; returns (success, combined output).
pub async fn run_node(script: &str, env: &[(&str, String)], timeout: Duration) -> (bool, String) {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(repo().join("tests/node").join(script))
        .current_dir(repo())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {timeout:?}"))
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Run curl with `args` (silent, errors shown, 8 s at most); a missing curl
/// fails the test with the install command.
pub async fn curl(args: &[&str]) -> std::process::Output {
    let output = tokio::time::timeout(
        super::WAIT,
        tokio::process::Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "8"])
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("curl finished in time");
    output.unwrap_or_else(|e| panic!("curl is needed for this test (apt-get install curl): {e}"))
}
