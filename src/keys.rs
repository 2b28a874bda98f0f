//! Keyboard shortcuts on a terminal, as vite has them: a letter and Enter.
//! Only when stdin is a terminal (never in scripts, CI or pipes).

#![deny(unreachable_pub, missing_debug_implementations)]

use std::io::{BufRead, IsTerminal};
use tokio::sync::mpsc;

/// What a shortcut asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shortcut {
    /// `r`: reload every open page.
    Reload,
    /// `o`: open the page in the browser.
    Open,
    /// `c`: clear the terminal.
    Clear,
    /// `q`: stop devserve.
    Quit,
    /// `h`: list the shortcuts.
    Help,
}

/// The shortcut a typed line names, if any.
pub(crate) fn parse(line: &str) -> Option<Shortcut> {
    match line.trim() {
        "r" => Some(Shortcut::Reload),
        "o" => Some(Shortcut::Open),
        "c" => Some(Shortcut::Clear),
        "q" => Some(Shortcut::Quit),
        "h" | "?" => Some(Shortcut::Help),
        _ => None,
    }
}

/// The help text.
pub(crate) const HELP: &str = "  Shortcuts (type the letter, then Enter):\n    r  reload every open page\n    o  open the page in the browser\n    c  clear the terminal\n    q  stop devserve\n    h  show this help";

/// Shortcuts typed on stdin, when it is a terminal; `None` otherwise. The
/// reading thread ends with stdin (or the process).
pub(crate) fn listen() -> Option<mpsc::Receiver<Shortcut>> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let (tx, rx) = mpsc::channel(8);
    std::thread::Builder::new()
        .name("devserve-keys".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                if let Some(shortcut) = parse(&line) {
                    if tx.blocking_send(shortcut).is_err() {
                        return;
                    }
                }
            }
        })
        .ok()?;
    Some(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_name_shortcuts() {
        assert_eq!(parse("r\n"), Some(Shortcut::Reload));
        assert_eq!(parse(" q "), Some(Shortcut::Quit));
        assert_eq!(parse("h"), Some(Shortcut::Help));
        assert_eq!(parse("x"), None);
        assert_eq!(parse("reload"), None);
    }
}
