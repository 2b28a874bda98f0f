//! What the `devserve` command prints. Terminal output never takes the server
//! down: a closed or broken stdout/stderr (`devserve dist | head -1`) only ends
//! the printing, never the serving.
//!
//! Colours go through anstream, which honours `NO_COLOR`, `CLICOLOR`,
//! `CLICOLOR_FORCE` and whether the stream is a terminal, and strips the
//! escapes otherwise. Lines are decided as text here; [`out`] and [`err`]
//! are the only writers.

#![deny(unreachable_pub, missing_debug_implementations)]

use anstyle::{AnsiColor, Style};
use devserve::Event;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use tokio::sync::broadcast::{self, error::RecvError};

/// Print `line` on stdout (colours stripped where they don't belong);
/// write errors are ignored.
pub(crate) fn out(line: &str) {
    let _ = writeln!(anstream::stdout().lock(), "{line}");
}

/// Print `line` on stderr; write errors are ignored.
pub(crate) fn err(line: &str) {
    let _ = writeln!(anstream::stderr().lock(), "{line}");
}

/// `text` in `colour` (anstream drops the escapes when colour is off).
pub(crate) fn paint(colour: AnsiColor, text: &str) -> String {
    let style = Style::new().fg_color(Some(colour.into()));
    format!("{style}{text}{style:#}")
}

/// `text` in bold.
fn bold(text: &str) -> String {
    let style = Style::new().bold();
    format!("{style}{text}{style:#}")
}

/// What the start-up banner shows.
#[derive(Debug)]
pub(crate) struct Banner<'a> {
    /// The served folder.
    pub(crate) root: &'a Path,
    /// The port asked for (0: any).
    pub(crate) asked_port: u16,
    /// Where the server listens.
    pub(crate) addr: SocketAddr,
    /// Whether the watcher polls.
    pub(crate) polling: bool,
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// The generated certificate in use, and whether this start made it.
    pub(crate) certificate: Option<(&'a Path, bool)>,
    /// Only what the user must see (`-q`).
    pub(crate) quiet: bool,
}

/// The URLs to print: `Local:` (what to open on this machine) and one
/// `Network:` per address other machines can use.
pub(crate) fn urls(scheme: &str, addr: SocketAddr, interfaces: &[IpAddr]) -> (String, Vec<String>) {
    let port = addr.port();
    let url = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => format!("{scheme}://{v4}:{port}/"),
        IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{port}/"),
    };
    let ip = addr.ip();
    let default_loopback = ip == IpAddr::from([127, 0, 0, 1]);
    if ip.is_unspecified() {
        let v6 = ip.is_ipv6();
        let network = interfaces
            .iter()
            .filter(|i| !i.is_loopback() && (v6 || i.is_ipv4()))
            .filter(|i| !matches!(i, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80))
            .map(|i| url(*i))
            .collect();
        (format!("{scheme}://localhost:{port}/"), network)
    } else if default_loopback {
        (format!("{scheme}://localhost:{port}/"), Vec::new())
    } else {
        let network = if ip.is_loopback() {
            Vec::new()
        } else {
            vec![url(ip)]
        };
        (url(ip), network)
    }
}

/// The start-up banner (the `Local:` line is what scripts wait for). With
/// `-q` only what the user must know: a moved port and where to go then.
pub(crate) fn banner(banner: &Banner<'_>) {
    let addr = banner.addr;
    let moved = addr.port() != banner.asked_port && banner.asked_port != 0;
    if moved {
        out(&format!(
            "devserve: port {} is in use, using {} instead",
            banner.asked_port,
            addr.port()
        ));
    }
    let interfaces = if addr.ip().is_unspecified() {
        machine_addresses()
    } else {
        Vec::new()
    };
    let (local, network) = urls(banner.scheme, addr, &interfaces);
    if banner.quiet {
        if moved {
            out(&format!("  Local:   {local}"));
        }
        return;
    }
    out(&format!(
        "devserve: serving {}",
        bold(&banner.root.display().to_string())
    ));
    out(&format!("  Local:   {}", paint(AnsiColor::Cyan, &local)));
    if addr.ip().is_loopback() {
        out("  Network: use --host 0.0.0.0 to expose");
    } else {
        for url in &network {
            out(&format!("  Network: {}", paint(AnsiColor::Cyan, url)));
        }
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

/// This machine's interface addresses.
fn machine_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|all| all.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

/// Print one line per event until the events end: change sets (unless
/// `quiet`), requests (when the request log is on), refused hosts and
/// proxy failures (always: the user has to act on them).
pub(crate) async fn print_events(mut events: broadcast::Receiver<Event>, quiet: bool) {
    loop {
        match events.recv().await {
            Ok(event) => {
                if let Some((line, to_stderr)) = describe(&event, quiet) {
                    if to_stderr {
                        err(&line);
                    } else {
                        out(&line);
                    }
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// The line for `event`, and whether it goes to stderr; `None`: nothing to say.
fn describe(event: &Event, quiet: bool) -> Option<(String, bool)> {
    match event {
        Event::Changed { paths, clients } if !quiet => Some((changed(paths, *clients), false)),
        Event::Request {
            method,
            path,
            status,
            bytes,
            elapsed,
        } if !quiet => Some((request_line(method, path, *status, *bytes, *elapsed), false)),
        Event::HostRefused { host } => Some((
            format!(
                "devserve: refused a request for the host {host:?}; to allow it, start devserve with {}",
                bold(&format!("--allowed-host {host}"))
            ),
            true,
        )),
        Event::ProxyFailed {
            path,
            backend,
            error,
        } => Some((
            format!(
                "devserve: {} {path} → {backend}: {error}",
                paint(AnsiColor::Red, "proxy:")
            ),
            true,
        )),
        _ => None,
    }
}

/// `src/app.js changed (+2 more): told 1 client`.
fn changed(paths: &[String], clients: usize) -> String {
    let first = paths.first().map_or("files", String::as_str);
    let more = if paths.len() > 1 {
        format!(" (+{} more)", paths.len() - 1)
    } else {
        String::new()
    };
    let noun = if clients == 1 { "client" } else { "clients" };
    format!(
        "{} changed{more}: told {clients} {noun}",
        paint(AnsiColor::Yellow, first)
    )
}

/// `GET /app.js 200 4.0 KiB 0.4 ms`, the status coloured by its class.
pub(crate) fn request_line(
    method: &str,
    path: &str,
    status: u16,
    bytes: Option<u64>,
    elapsed: std::time::Duration,
) -> String {
    let colour = match status {
        200..=299 => AnsiColor::Green,
        300..=399 => AnsiColor::Cyan,
        400..=499 => AnsiColor::Yellow,
        _ => AnsiColor::Red,
    };
    let size = bytes.map_or_else(|| "-".to_string(), human_size);
    format!(
        "{method} {path} {} {size} {:.1} ms",
        paint(colour, &status.to_string()),
        elapsed.as_secs_f64() * 1000.0
    )
}

/// `512 B`, `4.0 KiB`, `1.2 MiB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("addr")
    }

    #[test]
    fn urls_name_what_can_be_opened() {
        let ifs: Vec<IpAddr> = ["127.0.0.1", "192.168.1.7", "::1", "fe80::1", "2001:db8::5"]
            .iter()
            .map(|i| i.parse().expect("ip"))
            .collect();
        let (local, network) = urls("http", addr("127.0.0.1:8080"), &ifs);
        assert_eq!(
            (local.as_str(), network.len()),
            ("http://localhost:8080/", 0)
        );
        let (local, network) = urls("http", addr("127.0.0.2:8080"), &ifs);
        assert_eq!(
            (local.as_str(), network.len()),
            ("http://127.0.0.2:8080/", 0)
        );
        let (local, network) = urls("http", addr("0.0.0.0:8080"), &ifs);
        assert_eq!(local, "http://localhost:8080/");
        assert_eq!(network, ["http://192.168.1.7:8080/"]);
        let (_, network) = urls("https", addr("[::]:8443"), &ifs);
        assert_eq!(
            network,
            ["https://192.168.1.7:8443/", "https://[2001:db8::5]:8443/"]
        );
        let (local, network) = urls("http", addr("192.168.1.7:8080"), &ifs);
        assert_eq!(local, "http://192.168.1.7:8080/");
        assert_eq!(network, ["http://192.168.1.7:8080/"]);
    }

    #[test]
    fn request_lines_show_method_path_status_size_and_time() {
        let line = request_line(
            "GET",
            "/app.js",
            200,
            Some(4096),
            Duration::from_micros(400),
        );
        let plain = anstream::adapter::strip_str(&line).to_string();
        assert_eq!(plain, "GET /app.js 200 4.0 KiB 0.4 ms");
        let missing = request_line("GET", "/x", 404, None, Duration::from_millis(2));
        assert!(anstream::adapter::strip_str(&missing)
            .to_string()
            .ends_with("404 - 2.0 ms"));
    }

    #[test]
    fn refused_hosts_and_proxy_failures_are_said_even_when_quiet() {
        let host = Event::HostRefused {
            host: "dev.example.test".into(),
        };
        let (line, stderr) = describe(&host, true).expect("said");
        assert!(stderr);
        assert!(
            anstream::adapter::strip_str(&line)
                .to_string()
                .contains("--allowed-host dev.example.test"),
            "{line}"
        );
        let changed = Event::Changed {
            paths: vec!["a.css".into()],
            clients: 1,
        };
        assert!(describe(&changed, true).is_none());
        assert!(describe(&changed, false).is_some());
    }
}
