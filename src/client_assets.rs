//! The browser client, embedded from `client/` at build time and served
//! under `/__devserve/`.

use crate::body::{self, ResponseBody};
use crate::static_files::conditional::{if_none_match, EntityTag};
use crate::util::fnv1a;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use include_dir::{include_dir, Dir, File};

static CLIENT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/client");

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
    if name.is_empty() || name.contains("..") {
        return None;
    }
    CLIENT.get_file(name).map(|file| Asset { file })
}

impl Asset {
    /// The response to a GET of this asset: 200, or 304 when the request's
    /// `If-None-Match` names the current version.
    pub fn respond(&self, request_headers: &HeaderMap) -> Response<ResponseBody> {
        let tag = EntityTag {
            weak: false,
            opaque: version().to_string(),
        };
        let fresh = if_none_match(request_headers, Some(&tag)) == Some(true);
        let etag = format!("\"{}\"", tag.opaque);
        let mut response = if fresh {
            let mut r = Response::new(body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            Response::new(body::full(self.file.contents()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_client_and_revalidates() {
        let asset = lookup("client.js").expect("client.js is embedded");
        let response = asset.respond(&HeaderMap::new());
        assert_eq!(response.status(), 200);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            response.headers()[header::ETAG].clone(),
        );
        assert_eq!(asset.respond(&headers).status(), 304);
        assert!(lookup("nope.js").is_none());
        assert!(lookup("../Cargo.toml").is_none());
    }
}
