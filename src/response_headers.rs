//! The headers every response carries, in one place: `nosniff`, who may
//! use the response from another site (`Cross-Origin-Resource-Policy:
//! same-origin`, or `Access-Control-Allow-Origin: *` on the static files
//! with `--cors`), then the user's own `--header` values.
//!
//! The router adds them to what it answers; the static files build them
//! into each cached file's ready 200, so a hit adds nothing per request.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// `Cross-Origin-Resource-Policy` (not among `http`'s named headers).
const CROSS_ORIGIN_RESOURCE_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-resource-policy");

/// Header name and value pairs, set in order (a later one replaces an earlier one of the
/// same name).
pub(crate) type HeaderList = Vec<(HeaderName, HeaderValue)>;

/// The two sets of common headers: for same-origin use, and open to any origin.
#[derive(Debug, Clone)]
pub(crate) struct CommonHeaders {
    same_origin: HeaderList,
    any_origin: HeaderList,
}

impl CommonHeaders {
    /// The common headers with the user's `custom` headers last.
    pub(crate) fn new(custom: &[(HeaderName, HeaderValue)]) -> CommonHeaders {
        let with = |name: HeaderName, value: &'static str| {
            let mut list = vec![
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (name, HeaderValue::from_static(value)),
            ];
            list.extend_from_slice(custom);
            list
        };
        CommonHeaders {
            same_origin: with(CROSS_ORIGIN_RESOURCE_POLICY, "same-origin"),
            any_origin: with(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        }
    }

    /// The set for a response open to any origin (`cors`) or not.
    pub(crate) fn get(&self, cors: bool) -> &[(HeaderName, HeaderValue)] {
        if cors {
            &self.any_origin
        } else {
            &self.same_origin
        }
    }
}

/// Set each of `list` on `headers`, replacing what was there.
pub(crate) fn apply(headers: &mut HeaderMap, list: &[(HeaderName, HeaderValue)]) {
    for (name, value) in list {
        headers.insert(name.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_headers_come_last_and_win() {
        let custom = [(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("custom"),
        )];
        let common = CommonHeaders::new(&custom);
        let mut headers = HeaderMap::new();
        apply(&mut headers, common.get(false));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "custom");
        assert_eq!(headers[CROSS_ORIGIN_RESOURCE_POLICY], "same-origin");
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        let mut open = HeaderMap::new();
        apply(&mut open, common.get(true));
        assert_eq!(open[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!open.contains_key(CROSS_ORIGIN_RESOURCE_POLICY));
    }
}
