//! The messages devserve pushes to browsers: one internal [`Message`] per
//! event, rendered per endpoint by a [`Dialect`] — webpack-dev-server 3's
//! `{"type": T, "data": D}` at `/sockjs-node` (`wds3`), and
//! webpack-dev-server 5's `{"type", "data", "params"}` at `/ws` (`wds5`).
//! `data` (and `params`) are left out when a message has none.

#![deny(unreachable_pub, missing_debug_implementations)]

mod wds3;
mod wds5;

use serde::Serialize;

/// Which client protocol an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// webpack-dev-server 3 (and devserve's own client), at `/sockjs-node`.
    Wds3,
    /// webpack-dev-server 5, at `/ws` (plain WebSocket or SockJS).
    Wds5,
}

impl Dialect {
    /// The wire texts `message` becomes in this dialect: none when the
    /// dialect has no such message, two for wds 5's warnings-then-errors.
    ///
    /// ```
    /// use devserve::protocol::{Dialect, Message};
    /// assert_eq!(Dialect::Wds5.render(&Message::Reconnect(10)), vec![r#"{"type":"reconnect","data":10}"#]);
    /// assert!(Dialect::Wds3.render(&Message::Reconnect(10)).is_empty());
    /// ```
    pub fn render(self, message: &Message) -> Vec<String> {
        match self {
            Dialect::Wds3 => wds3::render(message),
            Dialect::Wds5 => wds5::render(message),
        }
    }
}

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
    /// Files in served folders changed: wds 3 hears `content-changed` with
    /// the URL paths (when there are any), wds 5 `static-changed` with the
    /// first file's absolute path.
    #[serde(skip)]
    FilesChanged(ChangedFiles),
    /// The number of reconnect attempts a wds 5 client makes (wds 5 only).
    #[serde(skip)]
    Reconnect(u32),
    /// A failed build that also has warnings: wds 3 hears `errors`, wds 5
    /// `warnings` (with `params.preventReloading`) then `errors`.
    #[serde(skip)]
    Failed {
        /// The errors.
        errors: Vec<String>,
        /// The warnings.
        warnings: Vec<String>,
    },
    /// A problem report, shown in the browser console.
    #[serde(rename = "error")]
    Error(String),
}

/// What a [`Message::FilesChanged`] names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangedFiles {
    /// URL paths under the served root; `None` when the change set does not
    /// name them all (a rescan) or names too many.
    pub urls: Option<Vec<String>>,
    /// Absolute file paths, as the watcher saw them.
    pub files: Vec<String>,
}

impl Message {
    /// The JSON text of this message in webpack-dev-server 3's shape; the
    /// variants only other dialects have become `{"type":"error"}`, so use
    /// [`Dialect::render`] for those.
    pub fn to_json(&self) -> String {
        // Serialising these plain types cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from(r#"{"type":"error"}"#))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wds5_only_messages_are_not_rendered_for_wds3() {
        for message in [Message::Reconnect(10), Message::Heartbeat(1)] {
            assert!(Dialect::Wds5.render(&message).len() <= 1);
        }
        assert!(Dialect::Wds3.render(&Message::Reconnect(10)).is_empty());
        let failed = Message::Failed {
            errors: vec!["e".into()],
            warnings: vec!["w".into()],
        };
        assert_eq!(
            Dialect::Wds3.render(&failed),
            vec![r#"{"type":"errors","data":["e"]}"#]
        );
        assert_eq!(
            Dialect::Wds5.render(&failed),
            vec![
                r#"{"type":"warnings","data":["w"],"params":{"preventReloading":true}}"#,
                r#"{"type":"errors","data":["e"]}"#
            ]
        );
    }

    #[test]
    fn changed_files_become_content_changed_or_static_changed() {
        let changed = Message::FilesChanged(ChangedFiles {
            urls: Some(vec!["/a.css".into()]),
            files: vec!["/srv/a.css".into(), "/srv/b.css".into()],
        });
        assert_eq!(
            Dialect::Wds3.render(&changed),
            vec![r#"{"type":"content-changed","data":["/a.css"]}"#]
        );
        assert_eq!(
            Dialect::Wds5.render(&changed),
            vec![r#"{"type":"static-changed","data":"/srv/a.css"}"#]
        );
        let rescan = Message::FilesChanged(ChangedFiles::default());
        assert!(Dialect::Wds3.render(&rescan).is_empty());
        assert_eq!(
            Dialect::Wds5.render(&rescan),
            vec![r#"{"type":"static-changed"}"#]
        );
    }

    #[test]
    fn wds5_drops_what_its_client_never_heard() {
        assert!(Dialect::Wds5
            .render(&Message::LogLevel("info".into()))
            .is_empty());
        assert!(Dialect::Wds5.render(&Message::Heartbeat(25_000)).is_empty());
        assert_eq!(
            Dialect::Wds5.render(&Message::Hash("h".into())),
            vec![r#"{"type":"hash","data":"h"}"#]
        );
        assert_eq!(
            Dialect::Wds5.render(&Message::ContentChanged(vec!["/x".into()])),
            vec![r#"{"type":"static-changed","data":"/x"}"#]
        );
    }

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
