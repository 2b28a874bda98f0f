//! The `devserve` command: a thin shell over the library.

mod cli;
mod exec;

use clap::Parser;
use devserve::{Event, Server};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // One line: clap's first line, without the usage block.
            let text = error.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("devserve: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    init_logging(cli.quiet);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("devserve: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("devserve: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Warnings from the library (watch limits and the like) go to stderr, one line each.
fn init_logging(quiet: bool) {
    let default = if quiet { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEVSERVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .try_init();
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    let config = cli.config()?;
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let server = Server::start(config.clone()).await?;
    let addr = server.local_addr();
    let mut events = server.events();
    if !cli.quiet {
        if addr.port() != config.addr.port() && config.addr.port() != 0 {
            println!(
                "devserve: port {} is in use, using {} instead",
                config.addr.port(),
                addr.port()
            );
        }
        println!(
            "devserve: serving {}",
            style.paint("1", &config.root.display().to_string())
        );
        let local = format!("http://localhost:{}/", addr.port());
        if addr.ip().is_loopback() {
            println!("  Local:   {}", style.paint("36", &local));
            println!("  Network: use --host 0.0.0.0 to expose");
        } else {
            let shown = if addr.ip().is_unspecified() {
                local.clone()
            } else {
                format!("http://{addr}/")
            };
            println!("  Local:   {}", style.paint("36", &shown));
            println!(
                "  Network: {}",
                style.paint("36", &format!("http://{addr}/"))
            );
            eprintln!(
                "devserve: warning: listening on {}: other machines can reach this server",
                addr.ip()
            );
        }
        if server.is_polling() {
            println!("  Watching by polling");
        }
    }
    if let Some(command) = cli.exec.clone() {
        let builder = exec::Builder {
            command,
            root: exec::canonical(&config.root),
            handle: server.handle(),
            progress: cli.progress,
            quiet: cli.quiet,
        };
        tokio::spawn(builder.run(server.changes()));
    }
    if cli.open {
        open_browser(&format!("http://localhost:{}/", addr.port()));
    }
    let quiet = cli.quiet;
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(Event::Changed { paths, clients }) if !quiet => {
                    let first = paths
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "files".to_string());
                    let more = if paths.len() > 1 {
                        format!(" (+{} more)", paths.len() - 1)
                    } else {
                        String::new()
                    };
                    let noun = if clients == 1 { "client" } else { "clients" };
                    println!(
                        "{} changed{more}: told {clients} {noun}",
                        style.paint("33", &first)
                    );
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    wait_for_signal().await;
    if !quiet {
        println!("devserve: shutting down");
    }
    server.shutdown().await;
    printer.abort();
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Open `url` in the default browser, without waiting for it.
fn open_browser(url: &str) {
    let command = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    if let Err(error) = std::process::Command::new(command.0)
        .args(&command.1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!(
            "devserve: could not open a browser ({}): {error}",
            command.0
        );
    }
}
