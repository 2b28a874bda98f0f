//! The `devserve` command: a thin shell over the library.

mod cli;
mod config_file;
mod exec;
mod keys;
mod signals;
mod term;

use clap::{CommandFactory, FromArgMatches};
use devserve::tls::TlsConfig;
use devserve::Server;
use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let (cli, matches) = match parse() {
        Ok(parsed) => parsed,
        Err(Parse::Done) => return ExitCode::SUCCESS,
        Err(Parse::Failed(line)) => {
            term::err(&format!("devserve: {line}"));
            return ExitCode::from(2);
        }
    };
    if let Some(done) = print_only(&cli, &matches) {
        return done;
    }
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

/// Why parsing did not give flags to run with.
enum Parse {
    /// `--help` or `--version` printed; exit 0.
    Done,
    /// A mistake, worded as one line.
    Failed(String),
}

/// The flags, with `devserve.toml` (or `--config FILE`) merged under them.
fn parse() -> Result<(cli::Cli, clap::ArgMatches), Parse> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let first = cli::Cli::command()
        .try_get_matches_from(&args)
        .map_err(clap_failure)?;
    let explicit = first.get_one::<std::path::PathBuf>("config").cloned();
    let merged =
        config_file::merged_args::<cli::Cli>(args, &first, explicit.as_deref(), &check_setting)
            .map_err(|e| Parse::Failed(e.to_string()))?;
    let matches = cli::Cli::command()
        .try_get_matches_from(merged)
        .map_err(clap_failure)?;
    let cli = cli::Cli::from_arg_matches(&matches).map_err(clap_failure)?;
    Ok((cli, matches))
}

/// One setting from the file, checked as the server will check it (so
/// `debounce = 99999` names its line instead of failing later without one).
fn check_setting(alone: &clap::ArgMatches) -> Result<(), String> {
    let cli = cli::Cli::from_arg_matches(alone).map_err(|e| e.to_string())?;
    cli.config().map(drop).map_err(|e| one_line(&e))
}

/// clap's verdict as one line that keeps its suggestion and the pointer to
/// `--help`: "unexpected argument '--sap' found (tip: a similar argument
/// exists: '--spa'; for more information, try '--help')".
fn clap_failure(error: clap::Error) -> Parse {
    if !error.use_stderr() {
        let _ = error.print();
        return Parse::Done;
    }
    let text = anstream::adapter::strip_str(&error.render().to_string()).to_string();
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:"));
    let head = lines.next().unwrap_or("invalid arguments");
    let rest: Vec<String> = lines
        .map(|l| {
            let mut chars = l.chars();
            chars
                .next()
                .map_or(String::new(), |c| c.to_lowercase().chain(chars).collect())
        })
        .collect();
    let head = head.trim_start_matches("error: ");
    let mut rest = rest;
    if let Some(similar) = similar_flag(&error).filter(|_| !text.contains("similar argument")) {
        rest.insert(0, format!("tip: a similar argument exists: '{similar}'"));
    }
    if rest.is_empty() {
        Parse::Failed(head.to_string())
    } else {
        Parse::Failed(format!(
            "{head} ({})",
            rest.join("; ").trim_end_matches('.')
        ))
    }
}

/// For an unknown `--flag`, the known flag it most likely meant: clap's own
/// suggestion misses swapped letters (`--sap` for `--spa`), which are the
/// most common typo.
fn similar_flag(error: &clap::Error) -> Option<String> {
    if error.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    let Some(clap::error::ContextValue::String(given)) =
        error.get(clap::error::ContextKind::InvalidArg)
    else {
        return None;
    };
    let given = given.strip_prefix("--")?.split('=').next()?;
    let command = cli::Cli::command();
    command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .filter_map(|arg| arg.get_long())
        .map(|long| (strsim::osa_distance(given, long), long))
        .filter(|(distance, long)| *distance <= (long.len() / 3).max(1))
        .min()
        .map(|(_, long)| format!("--{long}"))
}

/// `--completions`, `--man` and `--print-config` print and exit.
fn print_only(cli: &cli::Cli, matches: &clap::ArgMatches) -> Option<ExitCode> {
    let mut command = cli::Cli::command();
    if let Some(shell) = cli.completions {
        // Into memory first: clap_complete panics when its writer fails
        // (`devserve --completions bash | head -1`).
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "devserve", &mut script);
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(&script)
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return Some(ExitCode::FAILURE);
        }
    } else if cli.man {
        if clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .is_err()
        {
            return Some(ExitCode::FAILURE);
        }
    } else if cli.print_config {
        let _ = write!(
            std::io::stdout(),
            "{}",
            config_file::render(&command, matches)
        );
    } else {
        return None;
    }
    Some(ExitCode::SUCCESS)
}

/// Warnings from the library (watch limits and the like) go to stderr, one line each.
fn init_logging(quiet: bool) {
    let default = if quiet { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEVSERVE_TRACE")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_target(false)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_ansi(anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never)
        .try_init();
}

async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    // Before binding: from the first answer on, a signal stops devserve cleanly.
    let mut stop = signals::Stop::listen()?;
    let config = cli.config()?;
    let server = Server::start(config.clone()).await?;
    let addr = server.local_addr();
    let events = server.events();
    term::banner(&term::Banner {
        root: &config.root,
        asked_port: config.addr.port(),
        addr,
        polling: server.is_polling(),
        scheme: server.scheme(),
        certificate: server
            .certificate()
            .filter(|_| matches!(config.tls, Some(TlsConfig::SelfSigned { .. })))
            .map(|path| (path, server.certificate_is_new())),
        quiet: cli.quiet,
    });
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
    let printer = tokio::spawn(term::print_events(events, cli.quiet));
    let url = format!("{}://localhost:{}/", server.scheme(), addr.port());
    follow_shortcuts(&mut stop, &server, &url, cli.quiet).await;
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

/// Until a signal or `q`: the keyboard shortcuts, when stdin is a terminal.
async fn follow_shortcuts(stop: &mut signals::Stop, server: &Server, url: &str, quiet: bool) {
    let Some(mut shortcuts) = keys::listen().filter(|_| !quiet) else {
        return stop.wait().await;
    };
    term::out("  press h + enter to show the shortcuts");
    loop {
        let shortcut = tokio::select! {
            _ = stop.wait() => return,
            shortcut = shortcuts.recv() => match shortcut {
                Some(shortcut) => shortcut,
                None => return stop.wait().await,
            },
        };
        match shortcut {
            keys::Shortcut::Reload => {
                let told = server
                    .handle()
                    .broadcast(devserve::Message::ContentChanged(vec!["/".into()]));
                term::out(&format!("devserve: reloading {told} page(s)"));
            }
            keys::Shortcut::Open => open_browser(url),
            keys::Shortcut::Clear => term::out("\x1b[2J\x1b[H"),
            keys::Shortcut::Quit => return,
            keys::Shortcut::Help => term::out(keys::HELP),
        }
    }
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
