//! The messages devserve pushes to browsers over `/sockjs-node`, in the
//! shape webpack-dev-server's client expects: `{"type": T, "data": D}`,
//! with `data` left out when a message has none.

use serde::Serialize;

/// Which problems the in-page overlay shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Overlay {
    /// Show build errors.
    pub errors: bool,
    /// Show build warnings.
    pub warnings: bool,
}

impl Default for Overlay {
    /// Errors only, as webpack-dev-server's `overlay: true`.
    fn default() -> Self {
        Overlay {
            errors: true,
            warnings: false,
        }
    }
}

/// Build progress, as sent in `progress-update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// 0 to 100.
    pub percent: u8,
    /// What the build is doing.
    pub msg: String,
}

/// One message to the browser.
///
/// ```
/// use devserve::protocol::Message;
/// assert_eq!(Message::Ok.to_json(), r#"{"type":"ok"}"#);
/// assert_eq!(Message::Hash("abc".into()).to_json(), r#"{"type":"hash","data":"abc"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "data")]
#[non_exhaustive]
pub enum Message {
    /// Console verbosity for the client (`info`, `warn`, `error`, `none`, …).
    #[serde(rename = "log-level")]
    LogLevel(String),
    /// Hot mode is on: the page has a hot-update runtime.
    #[serde(rename = "hot")]
    Hot,
    /// Live reload is on.
    #[serde(rename = "liveReload")]
    LiveReload,
    /// Progress reporting is on.
    #[serde(rename = "progress")]
    ProgressOn(bool),
    /// Overlay settings.
    #[serde(rename = "overlay")]
    Overlay(Overlay),
    /// The server's heartbeat interval in milliseconds, so clients can
    /// tell a dead connection from a quiet one.
    #[serde(rename = "heartbeat")]
    Heartbeat(u64),
    /// A build (or change set) started.
    #[serde(rename = "invalid")]
    Invalid,
    /// Build progress.
    #[serde(rename = "progress-update")]
    ProgressUpdate(Progress),
    /// The hash of the build that follows.
    #[serde(rename = "hash")]
    Hash(String),
    /// Build done, no problems.
    #[serde(rename = "ok")]
    Ok,
    /// A build that changed nothing.
    #[serde(rename = "still-ok")]
    StillOk,
    /// Build done with warnings.
    #[serde(rename = "warnings")]
    Warnings(Vec<String>),
    /// Build failed.
    #[serde(rename = "errors")]
    Errors(Vec<String>),
    /// Files under the served folder changed (URL paths).
    #[serde(rename = "content-changed")]
    ContentChanged(Vec<String>),
    /// A problem report, shown in the browser console.
    #[serde(rename = "error")]
    Error(String),
}

impl Message {
    /// The JSON text sent over the wire.
    pub fn to_json(&self) -> String {
        // Serialising these plain types cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from(r#"{"type":"error"}"#))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_matches_the_client_protocol() {
        assert_eq!(
            Message::LogLevel("info".into()).to_json(),
            r#"{"type":"log-level","data":"info"}"#
        );
        assert_eq!(Message::LiveReload.to_json(), r#"{"type":"liveReload"}"#);
        assert_eq!(Message::Hot.to_json(), r#"{"type":"hot"}"#);
        assert_eq!(Message::Invalid.to_json(), r#"{"type":"invalid"}"#);
        assert_eq!(Message::StillOk.to_json(), r#"{"type":"still-ok"}"#);
        assert_eq!(
            Message::Overlay(Overlay {
                errors: true,
                warnings: false
            })
            .to_json(),
            r#"{"type":"overlay","data":{"errors":true,"warnings":false}}"#
        );
        assert_eq!(
            Message::ProgressUpdate(Progress {
                percent: 42,
                msg: "bundling".into()
            })
            .to_json(),
            r#"{"type":"progress-update","data":{"percent":42,"msg":"bundling"}}"#
        );
        assert_eq!(
            Message::Errors(vec!["x".into()]).to_json(),
            r#"{"type":"errors","data":["x"]}"#
        );
        assert_eq!(
            Message::ContentChanged(vec!["/a.css".into()]).to_json(),
            r#"{"type":"content-changed","data":["/a.css"]}"#
        );
        assert_eq!(
            Message::ProgressOn(true).to_json(),
            r#"{"type":"progress","data":true}"#
        );
    }
}
