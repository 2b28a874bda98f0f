//! webpack-dev-server 3's wire shape: `{"type": T, "data": D}`.

use super::Message;

/// The texts `message` becomes for a wds 3 client (and devserve's own).
pub(super) fn render(message: &Message) -> Vec<String> {
    match message {
        Message::FilesChanged(changed) => changed
            .urls
            .as_ref()
            .filter(|urls| !urls.is_empty())
            .map(|urls| Message::ContentChanged(urls.clone()).to_json())
            .into_iter()
            .collect(),
        Message::Reconnect(_) => Vec::new(),
        Message::Failed { errors, .. } => vec![Message::Errors(errors.clone()).to_json()],
        other => vec![other.to_json()],
    }
}
