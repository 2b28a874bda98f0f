//! The `devserve` command: a thin shell over the library.

mod cli;
mod exec;
mod signals;
mod term;

use clap::Parser;
use devserve::Server;
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
            term::err(&format!("devserve: {}", line.trim_start_matches("error: ")));
            return ExitCode::from(2);
        }
    };
    init_logging(cli.quiet);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            term::err(&format!("devserve: cannot start: {error}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            term::err(&format!("devserve: {}", one_line(&error)));
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
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .try_init();
}

async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    // Before binding: from the first answer on, a signal stops devserve cleanly.
    let mut stop = signals::Stop::listen()?;
    let config = cli.config()?;
    let style = term::Style::for_stdout();
    let server = Server::start(config.clone()).await?;
    let addr = server.local_addr();
    let events = server.events();
    if !cli.quiet {
        term::banner(
            &term::Banner {
                root: &config.root,
                asked_port: config.addr.port(),
                addr,
                polling: server.is_polling(),
                scheme: server.scheme(),
                certificate: server
                    .certificate()
                    .filter(|_| {
                        matches!(
                            config.tls,
                            Some(devserve::tls::TlsConfig::SelfSigned { .. })
                        )
                    })
                    .map(|path| (path, server.certificate_is_new())),
            },
            style,
        );
    }
    let builds = cli.exec.clone().map(|command| {
        let builder = exec::Builder {
            command,
            root: exec::canonical(&config.root),
            handle: server.handle(),
            progress: cli.progress,
            quiet: cli.quiet,
        };
        exec::Exec::start(builder, server.changes())
    });
    if cli.open {
        open_browser(&format!("{}://localhost:{}/", server.scheme(), addr.port()));
    }
    let printer = tokio::spawn(term::print_events(events, style, cli.quiet));
    stop.wait().await;
    if !cli.quiet {
        term::out("devserve: shutting down");
    }
    let builds = async {
        if let Some(builds) = builds {
            builds.stop().await;
        }
    };
    tokio::join!(server.shutdown(), builds);
    printer.abort();
    Ok(())
}

/// The error and its causes on one line, each cause once (a message that
/// already quotes its cause does not get it twice).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
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
        term::err(&format!(
            "devserve: could not open a browser ({}): {error}",
            command.0
        ));
    }
}
