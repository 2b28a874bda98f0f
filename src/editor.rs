//! Open in editor: `POST /__devserve/open-editor` starts the user's editor on a file named
//! in the overlay (`{"file": "src/app.ts", "line": 3, "column": 15}`).
//!
//! An endpoint that starts a program is guarded in layers, in this order:
//! 1. `POST` only (405 otherwise, `Allow: POST`);
//! 2. same-origin only: `Sec-Fetch-Site: same-origin`, or, without that header, an `Origin`
//!    equal to the request's own `scheme://Host` (403);
//! 3. the run's random token in `X-Devserve-Token`, compared in constant time (403); only the
//!    served client knows it ([`crate::client_assets::ClientScript`]);
//! 4. a JSON body of at most [`MAX_BODY`] bytes naming a file and a line ≥ 1 (400);
//! 5. the file must exist (404) and resolve, canonically, under the served folder or a watched
//!    one (403); relative names are tried against the working folder, then each root; an
//!    `http(s)://…` URL (from a stack trace) is taken as a path under the served folder;
//! 6. the editor is started with an argument vector, never through a shell (204, or 500 when
//!    it cannot be started).
//!
//! Which editor: the configured command ([`crate::Config::editor`]), else `$VISUAL`, else
//! `$EDITOR`, else `code`. Each is split on whitespace. `{file}`, `{line}` and `{column}` in
//! a configured command are replaced; otherwise the location is passed the way the program
//! understands it ([`launch_args`]).
#![deny(unreachable_pub, missing_debug_implementations)]

use crate::body::ResponseBody;
use crate::guard::Authority;
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderName, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt as _;
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Where the endpoint is served.
pub(crate) const OPEN_EDITOR_PATH: &str = "/__devserve/open-editor";
/// The request header carrying the token.
const TOKEN_HEADER: &str = "x-devserve-token";
/// Who the browser says started the request.
const SEC_FETCH_SITE: &str = "sec-fetch-site";
/// Largest request body read.
pub(crate) const MAX_BODY: usize = 8 * 1024;
/// The editor used when nothing is configured and neither `$VISUAL` nor `$EDITOR` is set.
const DEFAULT_EDITOR: &str = "code";

/// The endpoint's state: the run's token, the folders files may come from, the command.
#[derive(Clone)]
pub(crate) struct Editor {
    token: String,
    roots: Vec<PathBuf>,
    cwd: Option<PathBuf>,
    command: Vec<String>,
}

impl std::fmt::Debug for Editor {
    /// Everything but the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor")
            .field("roots", &self.roots)
            .field("cwd", &self.cwd)
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

/// What a request is answered with, decided before anything is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Start the editor with this argument vector (program first).
    Open(Vec<OsString>),
    /// 405: not a POST.
    MethodNotAllowed,
    /// 403: another origin, no origin information, or a wrong or missing token.
    Forbidden(&'static str),
    /// 400: the body is not `{"file": …, "line": …}`.
    BadBody(&'static str),
    /// 403: the file resolves outside the served and watched folders.
    Outside,
    /// 404: no such file.
    NotFound,
}

/// The request body.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Location {
    file: String,
    line: u32,
    #[serde(default)]
    column: Option<u32>,
}

impl Editor {
    /// State for one run: a fresh token; `roots` are canonicalised (missing ones dropped).
    pub(crate) fn new(roots: &[PathBuf], configured: Option<&str>) -> Editor {
        let var = |name| std::env::var(name).ok();
        Editor {
            token: random_token(),
            roots: roots.iter().filter_map(|r| r.canonicalize().ok()).collect(),
            cwd: std::env::current_dir().ok(),
            command: choose_command(
                configured,
                var("VISUAL").as_deref(),
                var("EDITOR").as_deref(),
            ),
        }
    }

    /// The run's token, for the served client.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Answer one request to [`OPEN_EDITOR_PATH`]; `authority` is what the Host gate returned.
    pub(crate) async fn handle<B>(
        &self,
        parts: &Parts,
        body: B,
        authority: &Authority,
        scheme: &str,
    ) -> Response<ResponseBody>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let decision = match check_request(parts, authority, scheme, &self.token) {
            Err(refused) => refused,
            Ok(()) => match http_body_util::Limited::new(body, MAX_BODY).collect().await {
                Err(_) => Decision::BadBody("the body is too large or unreadable"),
                Ok(collected) => self.decide_body(&collected.to_bytes()),
            },
        };
        render(decision)
    }

    /// Steps 4–5 for a body that passed the request checks.
    fn decide_body(&self, body: &Bytes) -> Decision {
        let location = match parse_body(body) {
            Ok(location) => location,
            Err(refused) => return refused,
        };
        match locate(&location.file, &self.roots, self.cwd.as_deref()) {
            Ok(path) => Decision::Open(launch_args(
                &self.command,
                &path,
                location.line,
                location.column.unwrap_or(1).max(1),
            )),
            Err(refused) => refused,
        }
    }
}

/// Steps 1–3: method, origin, token. Pure.
pub(crate) fn check_request(
    parts: &Parts,
    authority: &Authority,
    scheme: &str,
    token: &str,
) -> Result<(), Decision> {
    if parts.method != Method::POST {
        return Err(Decision::MethodNotAllowed);
    }
    let single = |name: &'static str| {
        crate::util::single_header(&parts.headers, &HeaderName::from_static(name))
    };
    // Sec-Fetch-Site decides when present (once); only without it does Origin.
    let same_origin = match parts.headers.get_all(SEC_FETCH_SITE).iter().count() {
        0 => single("origin").is_some_and(|origin| origin == format!("{scheme}://{authority}")),
        _ => single(SEC_FETCH_SITE)
            .is_some_and(|site| site.trim().eq_ignore_ascii_case("same-origin")),
    };
    if !same_origin {
        return Err(Decision::Forbidden("Cross-origin request blocked"));
    }
    let given = single(TOKEN_HEADER).unwrap_or("");
    if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
        return Err(Decision::Forbidden("Invalid token"));
    }
    Ok(())
}

/// Step 4. Pure.
fn parse_body(body: &[u8]) -> Result<Location, Decision> {
    let location: Location = serde_json::from_slice(body)
        .map_err(|_| Decision::BadBody("expected {\"file\": string, \"line\": number}"))?;
    if location.file.is_empty() || location.file.contains('\0') || location.file.len() > 4096 {
        return Err(Decision::BadBody("bad file name"));
    }
    if location.line == 0 {
        return Err(Decision::BadBody("lines start at 1"));
    }
    Ok(location)
}

/// Step 5: the canonical file `file` names under one of `roots` (canonical).
fn locate(file: &str, roots: &[PathBuf], cwd: Option<&Path>) -> Result<PathBuf, Decision> {
    let mut outside = false;
    for candidate in candidates(file, roots, cwd) {
        let Ok(path) = candidate.canonicalize() else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        if roots.iter().any(|root| path.starts_with(root)) {
            return Ok(path);
        }
        outside = true;
    }
    Err(if outside {
        Decision::Outside
    } else {
        Decision::NotFound
    })
}

/// The paths `file` may mean, most likely first.
fn candidates(file: &str, roots: &[PathBuf], cwd: Option<&Path>) -> Vec<PathBuf> {
    if let Some(rest) = file
        .strip_prefix("http://")
        .or_else(|| file.strip_prefix("https://"))
    {
        let path = rest.find('/').map_or("", |at| &rest[at..]);
        let path = path.split(['?', '#']).next().unwrap_or("");
        let decoded = percent_decode_str(path).decode_utf8_lossy();
        let relative = Path::new(decoded.trim_start_matches('/'));
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Vec::new();
        }
        return roots
            .first()
            .map(|root| root.join(relative))
            .into_iter()
            .collect();
    }
    let path = Path::new(file);
    if path.is_absolute() {
        return vec![path.to_path_buf()];
    }
    cwd.into_iter()
        .chain(roots.iter().map(PathBuf::as_path))
        .map(|base| base.join(path))
        .collect()
}

/// The editor's argument vector prefix: `configured`, else `visual`, else `editor`, else
/// [`DEFAULT_EDITOR`]; blank values count as unset. Pure.
pub(crate) fn choose_command(
    configured: Option<&str>,
    visual: Option<&str>,
    editor: Option<&str>,
) -> Vec<String> {
    [configured, visual, editor, Some(DEFAULT_EDITOR)]
        .into_iter()
        .flatten()
        .map(split_command)
        .find(|argv| !argv.is_empty())
        .unwrap_or_else(|| vec![DEFAULT_EDITOR.to_string()])
}

/// A command line split on whitespace (no shell, no quoting).
pub(crate) fn split_command(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}

/// The full argument vector to open `file` at `line`:`column` with `command`. Pure.
///
/// `{file}`, `{line}`, `{column}` in `command` are replaced if present. Otherwise, by the
/// program's name: VS Code and its forks get `-g file:line:col`; Sublime Text, Zed, Helix
/// and TextMate-style editors `file:line:col`; JetBrains IDEs `--line N file`; anything else
/// (vi, Vim, Neovim, Emacs, nano, …) `+line file`.
pub(crate) fn launch_args(
    command: &[String],
    file: &Path,
    line: u32,
    column: u32,
) -> Vec<OsString> {
    let at = |suffix: String| {
        let mut s = file.as_os_str().to_os_string();
        s.push(suffix);
        s
    };
    let placeholders = ["{file}", "{line}", "{column}"];
    if command
        .iter()
        .any(|arg| placeholders.iter().any(|p| arg.contains(p)))
    {
        return command
            .iter()
            .map(|arg| fill(arg, file, line, column))
            .collect();
    }
    let mut argv: Vec<OsString> = command.iter().map(OsString::from).collect();
    let program = command
        .first()
        .map(|p| {
            Path::new(p)
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
        })
        .unwrap_or_default()
        .to_ascii_lowercase();
    match program.as_str() {
        "code" | "code-insiders" | "codium" | "vscodium" | "cursor" | "windsurf" => {
            if !command.iter().any(|a| a == "-g" || a == "--goto") {
                argv.push("-g".into());
            }
            argv.push(at(format!(":{line}:{column}")));
        }
        "subl" | "sublime_text" | "zed" | "zeditor" | "hx" | "helix" | "atom" | "lapce" => {
            argv.push(at(format!(":{line}:{column}")));
        }
        "idea" | "idea64" | "webstorm" | "phpstorm" | "pycharm" | "clion" | "goland"
        | "rubymine" | "rider" | "rustrover" | "studio" => {
            argv.extend(["--line".into(), line.to_string().into(), file.into()]);
        }
        _ => argv.extend([format!("+{line}").into(), file.into()]),
    }
    argv
}

/// `arg` with its placeholders replaced.
fn fill(arg: &str, file: &Path, line: u32, column: u32) -> OsString {
    match arg {
        "{file}" => file.as_os_str().to_os_string(),
        _ => arg
            .replace("{file}", &file.to_string_lossy())
            .replace("{line}", &line.to_string())
            .replace("{column}", &column.to_string())
            .into(),
    }
}

/// Whether `a` equals `b`, in time that depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// 32 hex digits from the operating system's random source (`/dev/urandom`); where there is
/// none, from std's randomly keyed SipHash mixed with the time and the process id.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if from_os.is_err() {
        use std::hash::{BuildHasher as _, Hasher as _};
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            hasher.write_u32(std::process::id());
            chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Start the editor; the child is reaped in the background.
fn spawn(argv: &[OsString]) -> std::io::Result<()> {
    let Some((program, args)) = argv.split_first() else {
        return Err(std::io::Error::other("empty editor command"));
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    Ok(())
}

/// The one place a [`Decision`] becomes a response (starting the editor for `Open`).
fn render(decision: Decision) -> Response<ResponseBody> {
    use crate::util::plain_text;
    match decision {
        Decision::Open(argv) => match spawn(&argv) {
            Ok(()) => {
                tracing::info!(command = ?argv, "opened in the editor");
                let mut response = Response::new(crate::body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            Err(error) => {
                let program = argv.first().map(|p| p.to_string_lossy().into_owned());
                tracing::warn!(?program, %error, "cannot start the editor (set --editor, $VISUAL or $EDITOR)");
                plain_text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The editor could not be started",
                )
            }
        },
        Decision::MethodNotAllowed => {
            let mut response = plain_text(StatusCode::METHOD_NOT_ALLOWED, "Use POST");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        Decision::Forbidden(why) => plain_text(StatusCode::FORBIDDEN, why),
        Decision::BadBody(why) => plain_text(StatusCode::BAD_REQUEST, why),
        Decision::Outside => plain_text(
            StatusCode::FORBIDDEN,
            "Only files under the served or watched folders can be opened",
        ),
        Decision::NotFound => plain_text(StatusCode::NOT_FOUND, "No such file"),
    }
}

#[cfg(test)]
mod tests;
