//! What the `devserve` command prints. Terminal output never takes the server
//! down: a closed or broken stdout/stderr (`devserve dist | head -1`) only ends
//! the printing, never the serving.

#![deny(unreachable_pub, missing_debug_implementations)]

use devserve::Event;
use std::io::{IsTerminal, Write};
use tokio::sync::broadcast::{self, error::RecvError};

/// Print `line` on stdout; write errors are ignored.
pub(crate) fn out(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Print `line` on stderr; write errors are ignored.
pub(crate) fn err(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Colours on a terminal, unless `NO_COLOR` is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    on: bool,
}

impl Style {
    /// The style for stdout.
    pub(crate) fn for_stdout() -> Style {
        Style {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What the start-up banner shows.
#[derive(Debug)]
pub(crate) struct Banner<'a> {
    /// The served folder.
    pub(crate) root: &'a std::path::Path,
    /// The port asked for (0: any).
    pub(crate) asked_port: u16,
    /// Where the server listens.
    pub(crate) addr: std::net::SocketAddr,
    /// Whether the watcher polls.
    pub(crate) polling: bool,
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// The certificate in use with HTTPS, and whether this start generated it.
    pub(crate) certificate: Option<(&'a std::path::Path, bool)>,
}

/// Print the start-up banner (the `Local:` line is what scripts wait for).
pub(crate) fn banner(banner: &Banner<'_>, style: Style) {
    let addr = banner.addr;
    if addr.port() != banner.asked_port && banner.asked_port != 0 {
        out(&format!(
            "devserve: port {} is in use, using {} instead",
            banner.asked_port,
            addr.port()
        ));
    }
    out(&format!(
        "devserve: serving {}",
        style.paint("1", &banner.root.display().to_string())
    ));
    let scheme = banner.scheme;
    let local = format!("{scheme}://localhost:{}/", addr.port());
    if addr.ip().is_loopback() {
        out(&format!("  Local:   {}", style.paint("36", &local)));
        out("  Network: use --host 0.0.0.0 to expose");
    } else {
        let shown = if addr.ip().is_unspecified() {
            local
        } else {
            format!("{scheme}://{addr}/")
        };
        out(&format!("  Local:   {}", style.paint("36", &shown)));
        out(&format!(
            "  Network: {}",
            style.paint("36", &format!("{scheme}://{addr}/"))
        ));
        err(&format!(
            "devserve: warning: listening on {}: other machines can reach this server",
            addr.ip()
        ));
    }
    if banner.polling {
        out("  Watching by polling");
    }
    if let Some((path, generated)) = banner.certificate {
        let how = if generated { "generated" } else { "using" };
        out(&format!(
            "  HTTPS:   {how} the self-signed certificate {}; trust it in your browser or system store to skip the warning",
            path.display()
        ));
    }
}

/// Print one line per change set (unless `quiet`) and per proxy failure
/// until the events end.
pub(crate) async fn print_events(
    mut events: broadcast::Receiver<Event>,
    style: Style,
    quiet: bool,
) {
    loop {
        match events.recv().await {
            Ok(Event::Changed { paths, clients }) if !quiet => {
                out(&changed(&paths, clients, style))
            }
            Ok(Event::ProxyFailed {
                path,
                backend,
                error,
            }) => err(&format!("devserve: proxy: {path} → {backend}: {error}")),
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// `src/app.js changed (+2 more): told 1 client`.
fn changed(paths: &[String], clients: usize, style: Style) -> String {
    let first = paths.first().map_or("files", String::as_str);
    let more = if paths.len() > 1 {
        format!(" (+{} more)", paths.len() - 1)
    } else {
        String::new()
    };
    let noun = if clients == 1 { "client" } else { "clients" };
    format!(
        "{} changed{more}: told {clients} {noun}",
        style.paint("33", first)
    )
}
