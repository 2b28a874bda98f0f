//! `devserve.toml`: every flag has a key with the flag's name (`port = 8080`,
//! `strict-port = true`, `proxy = { "/api" = "http://127.0.0.1:3000" }`,
//! `header = ["X-A: 1"]`). Precedence: flags > `DEVSERVE_*` variables >
//! the file > defaults. A key is turned into the flag it names, so one
//! parser checks every value; unknown keys and bad values are errors that
//! name the file, the line and the key.

#![deny(unreachable_pub, missing_debug_implementations)]

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, CommandFactory};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use toml::{Spanned, Value};

/// The file read when `--config` is not given.
pub(crate) const DEFAULT_FILE: &str = "devserve.toml";

/// Flags that only make sense on the command line.
const NOT_IN_FILE: [&str; 4] = ["config", "print_config", "completions", "man"];

/// What the command makes of one key's value beyond what the flag parser
/// sees (the ranges and forms the server demands); `Err` says why.
pub(crate) type Check<'a> = &'a dyn Fn(&ArgMatches) -> Result<(), String>;

/// A mistake in the file, already worded for the terminal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct FileError(String);

/// The command line with the file's settings added where neither a flag nor
/// a `DEVSERVE_*` variable set them. `matches` are of `args` alone; each
/// key's value must also pass `check`, so its mistake names its line.
pub(crate) fn merged_args<C: CommandFactory>(
    args: Vec<OsString>,
    matches: &ArgMatches,
    explicit: Option<&Path>,
    check: Check<'_>,
) -> Result<Vec<OsString>, FileError> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok(args),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| FileError(format!("{}: {e}", path.display())))?;
    let mut merged = args;
    merged.extend(file_args::<C>(&path, &text, matches, check)?);
    Ok(merged)
}

/// The flags the file's keys stand for, skipping what was set otherwise.
fn file_args<C: CommandFactory>(
    path: &Path,
    text: &str,
    matches: &ArgMatches,
    check: Check<'_>,
) -> Result<Vec<OsString>, FileError> {
    let table: BTreeMap<Spanned<String>, Spanned<Value>> =
        toml::from_str(text).map_err(|e| FileError(syntax_error(path, text, &e)))?;
    let command = C::command();
    let mut out = Vec::new();
    for (key, value) in &table {
        let at = |why: String| {
            FileError(format!(
                "{}:{}: {}: {why}",
                path.display(),
                line_of(text, key.span().start),
                key.get_ref()
            ))
        };
        let arg = find_arg(&command, key.get_ref()).ok_or_else(|| at("unknown key".into()))?;
        let id = arg.get_id().as_str();
        if matches!(
            matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let pieces = flag_pieces(arg, value.get_ref()).map_err(at)?;
        check_alone::<C>(&pieces, check).map_err(at)?;
        out.extend(pieces);
    }
    Ok(out)
}

/// The argument a key names: its long flag, or `dir` for the folder.
fn find_arg<'a>(command: &'a Command, key: &str) -> Option<&'a clap::Arg> {
    command.get_arguments().find(|arg| {
        let id = arg.get_id().as_str();
        !NOT_IN_FILE.contains(&id)
            && !arg.is_hide_set()
            && (arg.get_long() == Some(key) || (arg.is_positional() && id == key))
    })
}

/// The command-line words for `value` of `arg`.
fn flag_pieces(arg: &clap::Arg, value: &Value) -> Result<Vec<OsString>, String> {
    let flag = arg.get_long().map(|l| format!("--{l}"));
    let with = |text: String| -> Vec<OsString> {
        match &flag {
            Some(flag) => vec![flag.into(), text.into()],
            None => vec![text.into()],
        }
    };
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return match value {
            Value::Boolean(true) => Ok(flag.into_iter().map(OsString::from).collect()),
            Value::Boolean(false) => Ok(Vec::new()),
            _ => Err("expected true or false".into()),
        };
    }
    match value {
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(with(scalar(item)?));
            }
            Ok(out)
        }
        Value::Table(table) if arg.get_id() == "proxy" => Ok(table
            .iter()
            .map(|(prefix, target)| scalar(target).map(|t| with(format!("{prefix}={t}"))))
            .collect::<Result<Vec<_>, _>>()?
            .concat()),
        other => Ok(with(scalar(other)?)),
    }
}

fn scalar(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Integer(n) => Ok(n.to_string()),
        Value::Float(n) => Ok(n.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        _ => Err("expected a string or a number".into()),
    }
}

/// Parse and `check` `pieces` on their own, so a bad value is blamed on
/// its key. `DEVSERVE_*` variables stay out: they are not the key's fault.
fn check_alone<C: CommandFactory>(pieces: &[OsString], check: Check<'_>) -> Result<(), String> {
    let argv = std::iter::once(OsString::from("devserve")).chain(pieces.iter().cloned());
    let command = C::command()
        .ignore_errors(false)
        .mut_args(|arg| arg.env(None));
    match command.try_get_matches_from(argv) {
        Ok(alone) => check(&alone),
        Err(error) if error.kind() == clap::error::ErrorKind::MissingRequiredArgument => Ok(()),
        Err(error) => Err(first_line(&error.to_string())),
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid value")
        .trim_start_matches("error: ")
        .to_string()
}

fn syntax_error(path: &Path, text: &str, error: &toml::de::Error) -> String {
    let line = error.span().map_or(1, |span| line_of(text, span.start));
    let message = error.message().lines().next().unwrap_or("invalid TOML");
    format!("{}:{line}: {message}", path.display())
}

/// The 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The merged settings as TOML, every flag under its key.
pub(crate) fn render(command: &Command, matches: &ArgMatches) -> String {
    let mut out = String::from("# devserve settings: flags > DEVSERVE_* > file > defaults\n");
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_IN_FILE.contains(&id) || arg.is_hide_set() || id == "help" || id == "version" {
            continue;
        }
        let key = arg.get_long().unwrap_or(id);
        if let Some(value) = rendered_value(arg, matches) {
            out.push_str(&format!("{key} = {value}\n"));
        }
    }
    out
}

fn rendered_value(arg: &clap::Arg, matches: &ArgMatches) -> Option<String> {
    let id = arg.get_id().as_str();
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return Some(matches.get_flag(id).to_string());
    }
    let raw: Vec<String> = matches
        .get_raw(id)
        .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let quote = |text: &str| Value::String(text.to_string()).to_string();
    let number_or_string = |text: &str| match text.parse::<i64>() {
        Ok(n) => n.to_string(),
        Err(_) => quote(text),
    };
    match (id, arg.get_action()) {
        ("proxy", _) => {
            let pairs: Vec<String> = raw
                .iter()
                .filter_map(|rule| rule.split_once('='))
                .map(|(prefix, url)| format!("{} = {}", quote(prefix), quote(url)))
                .collect();
            Some(format!("{{ {} }}", pairs.join(", ")))
        }
        (_, ArgAction::Append) => {
            let items: Vec<String> = raw.iter().map(|v| quote(v)).collect();
            Some(format!("[{}]", items.join(", ")))
        }
        _ => raw.first().map(|v| number_or_string(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Test {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value_t = 8080, env = "DEVSERVE_TEST_PORT_UNSET")]
        port: u16,
        #[arg(long)]
        strict_port: bool,
        #[arg(long = "header")]
        header: Vec<String>,
        #[arg(long = "proxy")]
        proxy: Vec<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    }

    fn merge(cli: &[&str], file: &str) -> Result<Test, FileError> {
        merge_checked(cli, file, &|_| Ok(()))
    }

    fn merge_checked(cli: &[&str], file: &str, check: Check<'_>) -> Result<Test, FileError> {
        let args: Vec<OsString> = std::iter::once("devserve")
            .chain(cli.iter().copied())
            .map(OsString::from)
            .collect();
        let matches = Test::command().get_matches_from(args.clone());
        let mut merged = args;
        merged.extend(file_args::<Test>(
            Path::new("devserve.toml"),
            file,
            &matches,
            check,
        )?);
        Ok(Test::parse_from(merged))
    }

    #[test]
    fn values_the_check_refuses_are_blamed_on_their_key() {
        let below_9000 = |alone: &ArgMatches| match alone.get_one::<u16>("port") {
            Some(port) if *port >= 9000 => Err(format!("{port} is too high")),
            _ => Ok(()),
        };
        let refused = merge_checked(&[], "strict-port = true\nport = 9500\n", &below_9000)
            .expect_err("refused");
        assert_eq!(
            refused.to_string(),
            "devserve.toml:2: port: 9500 is too high"
        );
        let kept = merge_checked(&[], "port = 8500\n", &below_9000).expect("allowed");
        assert_eq!(kept.port, 8500);
    }

    #[test]
    fn keys_are_flag_names_and_flags_win() {
        let file = "port = 9000\nstrict-port = true\nheader = [\"X-A: 1\"]\nproxy = { \"/api\" = \"http://127.0.0.1:3000\" }\ndir = \"dist\"\n";
        let merged = merge(&[], file).expect("valid");
        assert_eq!(merged.port, 9000);
        assert!(merged.strict_port);
        assert_eq!(merged.header, ["X-A: 1"]);
        assert_eq!(merged.proxy, ["/api=http://127.0.0.1:3000"]);
        assert_eq!(merged.dir, PathBuf::from("dist"));
        let flagged = merge(&["--port", "7000", "site"], file).expect("valid");
        assert_eq!(flagged.port, 7000);
        assert_eq!(flagged.dir, PathBuf::from("site"));
    }

    #[test]
    fn mistakes_name_the_file_line_and_key() {
        let unknown = merge(&[], "port = 9000\n\nprot = 1\n").expect_err("unknown");
        assert_eq!(unknown.to_string(), "devserve.toml:3: prot: unknown key");
        let bad = merge(&[], "# settings\nport = \"many\"\n").expect_err("bad value");
        assert!(
            bad.to_string().starts_with("devserve.toml:2: port: "),
            "{bad}"
        );
        assert!(bad.to_string().contains("many"), "{bad}");
        let flag = merge(&[], "strict-port = 1\n").expect_err("not a bool");
        assert_eq!(
            flag.to_string(),
            "devserve.toml:1: strict-port: expected true or false"
        );
        let syntax = merge(&[], "port = 9000\nport =\n").expect_err("syntax");
        assert!(
            syntax.to_string().starts_with("devserve.toml:2: "),
            "{syntax}"
        );
        let command_only = merge(&[], "config = \"x.toml\"\n").expect_err("not in a file");
        assert_eq!(
            command_only.to_string(),
            "devserve.toml:1: config: unknown key"
        );
    }
}
