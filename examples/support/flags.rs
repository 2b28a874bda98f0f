//! `--name value` flags for the benchmarks, with defaults and a one-line
//! error for anything unknown.

use std::str::FromStr;

/// The flags a benchmark was started with.
#[derive(Debug)]
pub struct Flags {
    pairs: Vec<(String, String)>,
}

impl Flags {
    /// Reads `--name value` pairs from the command line; `known` lists the
    /// accepted names (without dashes).
    pub fn parse(known: &[&str]) -> Result<Flags, String> {
        Flags::from_args(std::env::args().skip(1), known)
    }

    fn from_args(args: impl Iterator<Item = String>, known: &[&str]) -> Result<Flags, String> {
        let usage = || {
            let list: Vec<String> = known.iter().map(|k| format!("--{k} VALUE")).collect();
            format!("usage: [{}]", list.join("] ["))
        };
        let mut pairs = Vec::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").ok_or_else(usage)?;
            if !known.contains(&name) {
                return Err(format!("unknown flag --{name}; {}", usage()));
            }
            let value = args
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            pairs.push((name.to_string(), value));
        }
        Ok(Flags { pairs })
    }

    /// The value of `--name`, or `default` when absent.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.pairs.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => value
                .parse()
                .map_err(|_| format!("--{name}: cannot read {value:?}")),
            None => Ok(default),
        }
    }

    /// The text of `--name`, or `default` when absent.
    pub fn text(&self, name: &str, default: &str) -> String {
        self.get(name, default.to_string())
            .unwrap_or_else(|_| default.to_string())
    }
}
