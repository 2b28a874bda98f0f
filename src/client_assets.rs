//! The browser client, embedded from `client/` at build time and served
//! under `/__devserve/`.
//!
//! `client.js` is served assembled, as one script:
//! `(function (SETTINGS) { overlay.js client.js })(settings as JSON);`, where the settings
//! are this run's [`ClientSettings`] (JSON-encoded server values, never request data).
//! The fragments it is made of are not served on their own.

use crate::body::{self, ResponseBody};
use crate::static_files::conditional::{if_none_match, EntityTag};
use crate::util::fnv1a;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use include_dir::{include_dir, Dir, File};

static CLIENT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/client");

/// The served script that is assembled from the fragments.
const SCRIPT: &str = "client.js";
/// The fragments of [`SCRIPT`], in order (the last is the script's own file).
const PARTS: [&str; 2] = ["overlay.js", "client.js"];

/// Per-run values the served client carries.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// The open-in-editor token (see the server's `/__devserve/open-editor`).
    pub token: String,
    /// Show uncaught errors and unhandled promise rejections in the overlay.
    pub runtime_errors: bool,
}

impl std::fmt::Debug for ClientSettings {
    /// Everything but the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("runtime_errors", &self.runtime_errors)
            .finish_non_exhaustive()
    }
}

/// The assembled client script for one run, built once.
#[derive(Clone)]
pub struct ClientScript {
    body: bytes::Bytes,
    tag: EntityTag,
}

impl std::fmt::Debug for ClientScript {
    /// The size and validator; the body carries the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientScript")
            .field("len", &self.body.len())
            .field("etag", &self.tag.to_header())
            .finish()
    }
}

impl ClientScript {
    /// Assemble the script carrying `settings`.
    pub fn new(settings: &ClientSettings) -> ClientScript {
        let json = serde_json::json!({
            "token": settings.token,
            "runtimeErrors": settings.runtime_errors,
        })
        .to_string();
        let mut body = String::from("(function (SETTINGS) {\n");
        for part in PARTS {
            if let Some(file) = CLIENT.get_file(part) {
                body.push_str(&String::from_utf8_lossy(file.contents()));
                body.push('\n');
            }
        }
        body.push_str("})(");
        body.push_str(&json);
        body.push_str(");\n");
        // The settings are part of the validator, so a page of an earlier run revalidates.
        let run = fnv1a(&[json.as_bytes()]);
        ClientScript {
            body: body.into(),
            tag: EntityTag {
                weak: false,
                opaque: format!("{}-{run:016x}", version()),
            },
        }
    }

    /// The assembled script.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Identifies this build of the client; part of ETags and injected-page ETags.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let names: Vec<String> = CLIENT
            .files()
            .map(|file| file.path().to_string_lossy().into_owned())
            .collect();
        let mut parts: Vec<&[u8]> = Vec::new();
        for (file, name) in CLIENT.files().zip(&names) {
            parts.push(name.as_bytes());
            parts.push(file.contents());
        }
        format!("{}-{:016x}", env!("CARGO_PKG_VERSION"), fnv1a(&parts))
    })
}

/// One embedded client file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    file: &'static File<'static>,
}

/// The asset called `name` (the path after `/__devserve/`), if there is one.
pub fn lookup(name: &str) -> Option<Asset> {
    if name.is_empty() || name.contains("..") || (name != SCRIPT && PARTS.contains(&name)) {
        return None;
    }
    CLIENT.get_file(name).map(|file| Asset { file })
}

impl Asset {
    /// The response to a GET of this asset: 200, or 304 when the request's
    /// `If-None-Match` names the current version. `client.js` is `script`.
    pub fn respond(
        &self,
        request_headers: &HeaderMap,
        script: &ClientScript,
    ) -> Response<ResponseBody> {
        let is_script = self.file.path() == std::path::Path::new(SCRIPT);
        let tag = if is_script {
            script.tag.clone()
        } else {
            EntityTag {
                weak: false,
                opaque: version().to_string(),
            }
        };
        let fresh = if_none_match(request_headers, Some(&tag)) == Some(true);
        let etag = format!("\"{}\"", tag.opaque);
        let mut response = if fresh {
            let mut r = Response::new(body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            Response::new(if is_script {
                body::full(script.body.clone())
            } else {
                body::full(self.file.contents())
            })
        };
        let headers = response.headers_mut();
        if !fresh {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.mime()));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        response
    }

    fn mime(&self) -> &'static str {
        match self.file.path().extension().and_then(|e| e.to_str()) {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        }
    }
}

/// devserve's own icon, for `/favicon.ico` when the served folder has none.
static FAVICON: &[u8] = include_bytes!("../assets/favicon.ico");

/// A `GET`/`HEAD` of `/favicon.ico` (asked after the served folder had no such file).
pub(crate) fn is_favicon_request(parts: &http::request::Parts) -> bool {
    parts.uri.path() == "/favicon.ico"
        && (parts.method == http::Method::GET || parts.method == http::Method::HEAD)
}

/// The default favicon: 200 (no body for HEAD), or 304 when `If-None-Match` matches.
pub(crate) fn favicon(parts: &http::request::Parts) -> Response<ResponseBody> {
    let tag = EntityTag {
        weak: false,
        opaque: format!("favicon-{:016x}", fnv1a(&[FAVICON])),
    };
    let fresh = if_none_match(&parts.headers, Some(&tag)) == Some(true);
    let mut response = Response::new(if fresh || parts.method == http::Method::HEAD {
        body::empty()
    } else {
        body::full(FAVICON)
    });
    let headers = response.headers_mut();
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/x-icon"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(FAVICON.len()));
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&tag.to_header()) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(token: &str) -> ClientScript {
        ClientScript::new(&ClientSettings {
            token: token.into(),
            runtime_errors: true,
        })
    }

    #[test]
    fn serves_the_client_and_revalidates() {
        let asset = lookup("client.js").expect("client.js is embedded");
        let script = script("t1");
        let response = asset.respond(&HeaderMap::new(), &script);
        assert_eq!(response.status(), 200);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            response.headers()[header::ETAG].clone(),
        );
        assert_eq!(asset.respond(&headers, &script).status(), 304);
        assert_eq!(
            asset.respond(&headers, &self::script("t2")).status(),
            200,
            "another run's script is not fresh"
        );
        assert!(lookup("nope.js").is_none());
        assert!(lookup("../Cargo.toml").is_none());
    }

    #[test]
    fn the_script_carries_json_encoded_settings_and_both_parts() {
        let text = String::from_utf8(script("ab\"</script>").body().to_vec()).expect("utf-8");
        assert!(text.starts_with("(function (SETTINGS) {\n"));
        assert!(text.ends_with("})({\"runtimeErrors\":true,\"token\":\"ab\\\"</script>\"});\n"));
        let at = |needle: &str| text.find(needle).expect(needle);
        assert!(at("function createUi") < at("window.devserve = Object.freeze"));
        assert!(
            lookup("overlay.js").is_none(),
            "fragments are not served alone"
        );
    }
}
