//! webpack-dev-server 5's wire shape: `{"type": T, "data": D, "params": P}`,
//! each part left out when undefined (as `JSON.stringify` does).

use super::Message;
use serde::Serialize;
use serde_json::{json, Value};

/// The texts `message` becomes for a wds 5 client.
pub(super) fn render(message: &Message) -> Vec<String> {
    let one = |kind: &str, data: Option<Value>| vec![text(kind, data, None)];
    match message {
        // wds 5 takes its log level from the bundle, and has no heartbeat message.
        Message::LogLevel(_) | Message::Heartbeat(_) => Vec::new(),
        Message::Hot => one("hot", None),
        Message::LiveReload => one("liveReload", None),
        Message::ProgressOn(on) => one("progress", Some(json!(on))),
        Message::Reconnect(n) => one("reconnect", Some(json!(n))),
        Message::Overlay(overlay) => one("overlay", Some(json!(overlay))),
        Message::Invalid => one("invalid", None),
        Message::ProgressUpdate(p) => one("progress-update", Some(json!(p))),
        Message::Hash(hash) => one("hash", Some(json!(hash))),
        Message::Ok => one("ok", None),
        Message::StillOk => one("still-ok", None),
        Message::Warnings(w) => one("warnings", Some(json!(w))),
        Message::Errors(e) => one("errors", Some(json!(e))),
        Message::Failed { errors, warnings } => {
            let mut texts = Vec::new();
            if !warnings.is_empty() {
                let params = json!({ "preventReloading": true });
                texts.push(text("warnings", Some(json!(warnings)), Some(params)));
            }
            texts.push(text("errors", Some(json!(errors)), None));
            texts
        }
        Message::ContentChanged(urls) => one("static-changed", urls.first().map(|u| json!(u))),
        Message::FilesChanged(changed) => {
            one("static-changed", changed.files.first().map(|f| json!(f)))
        }
        Message::Error(text) => one("error", Some(json!(text))),
    }
}

/// One message on the wire, fields in wds 5's order.
#[derive(Serialize)]
struct Wire<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<Value>,
}

/// One message's JSON text.
fn text(kind: &str, data: Option<Value>, params: Option<Value>) -> String {
    let wire = Wire { kind, data, params };
    // Serialising a string and JSON values cannot fail.
    serde_json::to_string(&wire).unwrap_or_else(|_| String::from(r#"{"type":"error"}"#))
}
