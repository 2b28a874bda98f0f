//! The load generators (wrk for HTTP/1.1, h2load for HTTP/2), run on the
//! client CPU and read back into numbers.

use super::spawn::{output, pinned_bounded, BenchError};
use std::time::Duration;

/// One load run's outcome.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Completed requests per second.
    pub rps: f64,
    /// 99th percentile latency in milliseconds (wrk only).
    pub p99_ms: Option<f64>,
}

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Run length.
    pub duration: Duration,
    /// Open connections (wrk) or clients (h2load).
    pub connections: u32,
}

/// `wrk -t2 -cC -dD --latency` against `url` with extra request `headers`.
pub fn wrk(url: &str, headers: &[&str], shape: Shape) -> Result<Load, BenchError> {
    let seconds = shape.duration.as_secs().max(1);
    let mut command = pinned_bounded("wrk", Duration::from_secs(seconds + 30));
    command
        .args(["-t2", "--latency", "--timeout", "2s"])
        .arg(format!("-c{}", shape.connections))
        .arg(format!("-d{seconds}s"));
    for header in headers {
        command.args(["-H", header]);
    }
    command.arg(url);
    let (text, errors) = output(command, "wrk")?;
    parse_wrk(&text).ok_or_else(|| {
        let first = text.lines().chain(errors.lines());
        format!(
            "wrk gave no usable result for {url}: {}",
            first.collect::<Vec<_>>().join(" | ")
        )
        .into()
    })
}

/// Reads `Requests/sec:` and the `99%` latency line; `None` when any
/// response was not 2xx/3xx or nothing was measured.
fn parse_wrk(text: &str) -> Option<Load> {
    if text.contains("Non-2xx or 3xx responses") {
        return None;
    }
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| *r > 0.0)?;
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(|v| duration_ms(v.trim()));
    Some(Load { rps, p99_ms })
}

/// `123.45us`, `1.20ms`, `2.00s` in milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(value / 1000.0),
        "ms" => Some(value),
        "s" => Some(value * 1000.0),
        "m" => Some(value * 60_000.0),
        _ => None,
    }
}

/// `h2load -cC -m10 -D` (HTTP/2 with prior knowledge on a plain port).
pub fn h2load(url: &str, headers: &[&str], shape: Shape) -> Result<Load, BenchError> {
    let seconds = shape.duration.as_secs().max(1);
    let mut command = pinned_bounded("h2load", Duration::from_secs(seconds + 30));
    command
        .args(["-t1", "-m10", "--warm-up-time=1"])
        .arg(format!("-c{}", shape.connections))
        .arg(format!("-D{seconds}"));
    for header in headers {
        command.args(["-H", header]);
    }
    command.arg(url);
    let (text, _) = output(command, "h2load")?;
    parse_h2load(&text).ok_or_else(|| {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("requests:") || l.contains("status"))
            .collect();
        format!(
            "h2load gave no usable result for {url}: {}",
            lines.join(" | ")
        )
        .into()
    })
}

/// Reads `finished in …, N req/s`; `None` when any request failed or was
/// not answered 2xx.
fn parse_h2load(text: &str) -> Option<Load> {
    let requests = text.lines().find(|l| l.starts_with("requests:"))?;
    let count = |word: &str| -> Option<u64> {
        let at = requests.find(word)?;
        requests[..at].split_whitespace().last()?.parse().ok()
    };
    let succeeded = count(" succeeded")?;
    if count(" failed")? != 0 || count(" errored")? != 0 || succeeded == 0 {
        return None;
    }
    // h2load may count a few streams cut by the end of the run as
    // succeeded without a status; any 4xx or 5xx is a failure.
    let codes = text.lines().find(|l| l.starts_with("status codes:"))?;
    let code = |class: &str| -> Option<u64> {
        let at = codes.find(class)?;
        codes[..at].split_whitespace().last()?.parse().ok()
    };
    if code(" 2xx")? == 0 || code(" 4xx")? != 0 || code(" 5xx")? != 0 {
        return None;
    }
    let finished = text.lines().find(|l| l.starts_with("finished in"))?;
    let rps = finished
        .split(',')
        .find_map(|part| part.trim().strip_suffix(" req/s"))?
        .trim()
        .parse()
        .ok()?;
    Some(Load { rps, p99_ms: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_gives_rate_and_p99() {
        let text = "Running 5s test @ http://127.0.0.1:1/4k.txt\n  Latency Distribution\n     50%  400.00us\n     99%    1.25ms\n  345 requests in 5.00s\nRequests/sec:  69712.31\nTransfer/sec:     300MB\n";
        let load = parse_wrk(text).unwrap();
        assert_eq!(load.rps, 69712.31);
        assert_eq!(load.p99_ms, Some(1.25));
        assert!(parse_wrk(&format!("{text}  Non-2xx or 3xx responses: 3\n")).is_none());
    }

    #[test]
    fn h2load_output_gives_rate_only_when_all_succeeded() {
        let text = "finished in 5.00s, 81234.50 req/s, 340MB/s\nrequests: 406172 total, 406500 started, 406172 done, 406172 succeeded, 0 failed, 0 errored, 0 timeout\nstatus codes: 406172 2xx, 0 3xx, 0 4xx, 0 5xx\n";
        assert_eq!(parse_h2load(text).unwrap().rps, 81234.5);
        let failed = text.replace("0 failed", "2 failed");
        assert!(parse_h2load(&failed).is_none());
        let not_found = text.replace("0 4xx", "7 4xx");
        assert!(parse_h2load(&not_found).is_none());
    }
}

/// One `GET path` over a fresh connection to `127.0.0.1:port`: the response
/// head (status line and headers), lower-cased.
pub fn probe(port: u16, path: &str, headers: &[&str]) -> Result<String, BenchError> {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if tcp.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).to_ascii_lowercase())
}

/// Fails unless `GET path` on `port` answers 200 (and, when given, with a
/// head containing `must_contain`, or not containing `must_lack`).
pub fn expect_ok(
    port: u16,
    path: &str,
    headers: &[&str],
    must_contain: Option<&str>,
    must_lack: Option<&str>,
) -> Result<(), BenchError> {
    let head = probe(port, path, headers)?;
    let status_ok = head.starts_with("http/1.1 200");
    let contains = must_contain.is_none_or(|s| head.contains(s));
    let lacks = must_lack.is_none_or(|s| !head.contains(s));
    if status_ok && contains && lacks {
        Ok(())
    } else {
        let first = head.lines().next().unwrap_or("no answer");
        Err(format!(
            "unexpected answer from 127.0.0.1:{port}{path}: {first} (wanted 200{})",
            must_contain
                .map(|s| format!(" with {s:?}"))
                .unwrap_or_default()
        )
        .into())
    }
}
