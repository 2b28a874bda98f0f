//! Cross-origin and caching headers, and the JSESSIONID cookie.

use super::options::{Jsessionid, Options};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use std::time::{Duration, SystemTime};

const ONE_YEAR: Duration = Duration::from_secs(31_536_000);

/// Forbid caching (streaming and session responses).
pub(crate) fn no_cache(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, no-transform, must-revalidate, max-age=0"),
    );
}

/// Cache for a year (preflights, iframe page).
pub(crate) fn cache_for_a_year(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000"),
    );
    if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now() + ONE_YEAR))
    {
        headers.insert(header::EXPIRES, value);
    }
}

/// Headers of an answer to a CORS preflight for `methods`.
pub(crate) fn preflight(headers: &mut HeaderMap, methods: &'static str) {
    cache_for_a_year(headers);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("31536000"),
    );
}

/// CORS headers: reflect the request's Origin with credentials, or `*`
/// without an Origin; echo requested headers. Nothing when CORS is off.
pub(crate) fn cors(headers: &mut HeaderMap, req: &Parts, options: &Options) {
    if options.disable_cors {
        return;
    }
    match req.headers.get(header::ORIGIN) {
        Some(origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        None => {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(requested) = req.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        if !requested.is_empty() {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
    }
}

/// The JSESSIONID cookie, when the policy asks for one.
pub(crate) fn jsessionid(headers: &mut HeaderMap, req: &Parts, options: &Options) {
    let cookie = match &options.jsessionid {
        Jsessionid::Off => return,
        Jsessionid::Custom(decide) => match decide(req) {
            Some(cookie) => cookie,
            None => return,
        },
        Jsessionid::On => {
            let value = incoming_jsessionid(req).unwrap_or("dummy");
            format!("JSESSIONID={value}; path=/")
        }
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
}

/// The JSESSIONID value the client sent, if it is a plain token.
fn incoming_jsessionid(req: &Parts) -> Option<&str> {
    req.headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("JSESSIONID="))
        .find(|value| {
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().uri("/x");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(())
            .map(|r| r.into_parts().0)
            .expect("valid request")
    }

    #[test]
    fn reflects_origin_with_credentials() {
        let mut h = HeaderMap::new();
        cors(&mut h, &parts(&[("origin", "null")]), &Options::new("/x"));
        assert_eq!(h["access-control-allow-origin"], "null");
        assert_eq!(h["access-control-allow-credentials"], "true");
        let mut h = HeaderMap::new();
        cors(&mut h, &parts(&[]), &Options::new("/x"));
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h.get("access-control-allow-credentials").is_none());
    }

    #[test]
    fn no_cors_when_disabled() {
        let mut h = HeaderMap::new();
        cors(
            &mut h,
            &parts(&[("origin", "http://a")]),
            &Options::new("/x").disable_cors(true),
        );
        assert!(h.is_empty());
    }

    #[test]
    fn jsessionid_echoes_or_uses_dummy() {
        let on = Options::new("/x").jsessionid(Jsessionid::On);
        let mut h = HeaderMap::new();
        jsessionid(&mut h, &parts(&[("cookie", "a=b; JSESSIONID=abcdef")]), &on);
        assert_eq!(h["set-cookie"], "JSESSIONID=abcdef; path=/");
        let mut h = HeaderMap::new();
        jsessionid(&mut h, &parts(&[]), &on);
        assert_eq!(h["set-cookie"], "JSESSIONID=dummy; path=/");
    }
}
