//! Proxy rules: which path prefixes go to which backend.

use super::ConfigError;
use http::Uri;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The default time a backend gets to connect and send its response head.
pub const DEFAULT_PROXY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest proxy timeout accepted.
pub const MAX_PROXY_TIMEOUT: Duration = Duration::from_secs(3600);

/// Requests whose path starts with `prefix` go to `target`.
///
/// ```
/// let rule: devserve::config::ProxyRule = "/api=http://127.0.0.1:3000".parse().unwrap();
/// assert_eq!(rule.prefix(), "/api");
/// assert_eq!(rule.target().to_string(), "http://127.0.0.1:3000/");
/// assert!(rule.covers("/api/items?page=2"));
/// assert!(!rule.covers("/apix"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRule {
    prefix: String,
    target: Uri,
    /// Send the backend's own host as `Host` (as webpack-dev-server's
    /// `changeOrigin`). Default true; false keeps the browser's `Host`.
    pub change_origin: bool,
}

impl ProxyRule {
    /// A rule sending `prefix` (a path starting with `/`) to `target`
    /// (`http://host[:port][/base]`).
    pub fn new(prefix: &str, target: &str) -> Result<ProxyRule, ConfigError> {
        let prefix = parse_prefix(prefix)?;
        let target = parse_target(target)?;
        Ok(ProxyRule {
            prefix,
            target,
            change_origin: true,
        })
    }

    /// The path prefix this rule covers, without a trailing `/` (except `/` itself).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The backend: an `http` URL whose path is prepended to forwarded paths.
    pub fn target(&self) -> &Uri {
        &self.target
    }

    /// Whether `path` lies under the prefix: the prefix itself, or the prefix
    /// followed by `/` (`/api` covers `/api` and `/api/x`, not `/apix`).
    pub fn covers(&self, path: &str) -> bool {
        if self.prefix == "/" {
            return path.starts_with('/');
        }
        match path.strip_prefix(self.prefix.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'),
            None => false,
        }
    }
}

impl fmt::Display for ProxyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.prefix, self.target)
    }
}

impl FromStr for ProxyRule {
    type Err = ConfigError;

    /// `PREFIX=URL`, as `--proxy` takes it.
    fn from_str(text: &str) -> Result<ProxyRule, ConfigError> {
        let (prefix, target) = text.split_once('=').ok_or_else(|| {
            ConfigError::new(
                "proxy.rules",
                format!("{text:?} is not of the form PREFIX=URL, e.g. /api=http://127.0.0.1:3000"),
            )
        })?;
        ProxyRule::new(prefix.trim(), target.trim())
    }
}

fn parse_prefix(prefix: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::new("proxy.rules", format!("prefix {prefix:?} {why}"));
    if !prefix.starts_with('/') {
        return Err(bad("must start with /"));
    }
    if prefix.contains(['?', '#', ' ']) || prefix.split('/').any(|s| s == ".." || s == ".") {
        return Err(bad("must be a plain path"));
    }
    let trimmed = prefix.trim_end_matches('/');
    Ok(if trimmed.is_empty() { "/" } else { trimmed }.to_string())
}

fn parse_target(target: &str) -> Result<Uri, ConfigError> {
    let bad = |why: &str| ConfigError::new("proxy.rules", format!("backend {target:?} {why}"));
    let uri: Uri = target.parse().map_err(|_| bad("is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("must be an http:// URL"));
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err(bad("has no host"));
    }
    if uri.query().is_some() {
        return Err(bad("must not have a query"));
    }
    Ok(uri)
}

/// Where requests are proxied to, and how patiently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The rules; the longest covering prefix wins. Default none.
    pub rules: Vec<ProxyRule>,
    /// Time a backend gets to accept the connection and send its response
    /// head; past it the browser gets 504. Default [`DEFAULT_PROXY_TIMEOUT`].
    pub timeout: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            rules: Vec::new(),
            timeout: DEFAULT_PROXY_TIMEOUT,
        }
    }
}

impl ProxyConfig {
    /// The rule with the longest prefix covering `path`.
    pub fn rule_for(&self, path: &str) -> Option<&ProxyRule> {
        self.rules
            .iter()
            .filter(|rule| rule.covers(path))
            .max_by_key(|rule| rule.prefix.len())
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        super::within(
            "proxy.timeout",
            self.timeout,
            Duration::from_millis(1),
            MAX_PROXY_TIMEOUT,
        )?;
        for (i, rule) in self.rules.iter().enumerate() {
            if self.rules[..i].iter().any(|r| r.prefix == rule.prefix) {
                return Err(ConfigError::new(
                    "proxy.rules",
                    format!("two rules for the prefix {}", rule.prefix),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> ProxyRule {
        text.parse().expect("valid rule")
    }

    #[test]
    fn malformed_rules_are_refused() {
        for text in [
            "api",
            "api=http://127.0.0.1:3000",
            "/api=ftp://127.0.0.1",
            "/api=127.0.0.1:3000",
            "/api=http://",
            "/api=https://example.test",
            "/a?b=http://127.0.0.1:1",
            "/../x=http://127.0.0.1:1",
            "/api=http://127.0.0.1:1/?q=1",
        ] {
            let error = text.parse::<ProxyRule>().expect_err(text);
            assert_eq!(error.field(), "proxy.rules", "{text}");
        }
    }

    #[test]
    fn prefixes_cover_whole_segments() {
        let api = rule("/api/=http://127.0.0.1:3000");
        assert_eq!(api.prefix(), "/api");
        for path in ["/api", "/api/", "/api/items", "/api?x=1"] {
            assert!(api.covers(path), "{path}");
        }
        for path in ["/apix", "/ap", "/", "/x/api"] {
            assert!(!api.covers(path), "{path}");
        }
        assert!(rule("/=http://127.0.0.1:3000").covers("/anything"));
    }

    #[test]
    fn the_longest_prefix_wins() {
        let config = ProxyConfig {
            rules: vec![
                rule("/api=http://127.0.0.1:1"),
                rule("/api/v2=http://127.0.0.1:2"),
                rule("/=http://127.0.0.1:3"),
            ],
            ..ProxyConfig::default()
        };
        let port = |path| config.rule_for(path).and_then(|r| r.target().port_u16());
        assert_eq!(port("/api/v2/x"), Some(2));
        assert_eq!(port("/api/v3"), Some(1));
        assert_eq!(port("/index.html"), Some(3));
        assert_eq!(ProxyConfig::default().rule_for("/api"), None);
    }

    #[test]
    fn duplicate_prefixes_and_zero_timeouts_are_refused() {
        let mut config = ProxyConfig {
            rules: vec![
                rule("/api=http://127.0.0.1:1"),
                rule("/api/=http://127.0.0.1:2"),
            ],
            ..ProxyConfig::default()
        };
        assert_eq!(config.validate().expect_err("dup").field(), "proxy.rules");
        config.rules.pop();
        config.timeout = Duration::ZERO;
        assert_eq!(
            config.validate().expect_err("zero").field(),
            "proxy.timeout"
        );
    }
}
