//! Benchmark: the cost of devserve's `--proxy` beside nginx as a reverse
//! proxy.
//!
//! A small hyper backend (this example, started again with
//! `--serve-backend`) answers every request with a 1 KB body. wrk
//! (`-t2 -c64 --latency`) measures requests/s and p99 latency
//! - directly against the backend,
//! - through `devserve --proxy /api=http://127.0.0.1:PORT`,
//! - through nginx (`proxy_pass` to an upstream with `keepalive 64`),
//!
//! alternating for `--rounds` rounds of `--duration` seconds; the servers
//! (backend, devserve, nginx) share CPU 0, wrk runs on CPU 1. The summary
//! prints the medians and the ratios to the direct figure.
//!
//! ```text
//! apt-get install -y wrk nginx-light util-linux
//! cargo build --release --bins --examples
//! ./target/release/examples/bench_proxy [--rounds 3] [--duration 5] [--connections 64]
//! ```
//! Loopback only; bounded in time; every process it starts ends with it (the
//! backend also exits by itself after its time budget).

#[allow(dead_code)] // each benchmark uses a part of the shared helpers
#[path = "support/mod.rs"]
mod support;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;
use support::flags::Flags;
use support::load::{expect_ok, wrk, Load, Shape};
use support::nginx;
use support::report::{median, print_table, ratio, Row};
use support::spawn::{
    devserve_bin, free_port, pinned, require_tool, run_pinned, wait_for_port, BenchError, Guard,
    SERVER_CPU,
};

const PATH: &str = "/api/data";
const BODY_LEN: usize = 1024;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve-backend") {
        return backend_main(&args[1..]);
    }
    run_pinned("bench_proxy", run())
}

/// `--serve-backend PORT SECONDS`: answer on `127.0.0.1:PORT` for at most
/// SECONDS.
fn backend_main(args: &[String]) -> std::process::ExitCode {
    let port: Option<u16> = args.first().and_then(|a| a.parse().ok());
    let seconds: Option<u64> = args.get(1).and_then(|a| a.parse().ok());
    let (Some(port), Some(seconds)) = (port, seconds) else {
        eprintln!("bench_proxy: usage: --serve-backend PORT SECONDS");
        return std::process::ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bench_proxy backend: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(seconds), backend(port)).await
    });
    match served {
        Ok(Err(error)) => {
            eprintln!("bench_proxy backend: {error}");
            std::process::ExitCode::FAILURE
        }
        _ => std::process::ExitCode::SUCCESS,
    }
}

/// Every request gets 200 with the same 1 KB body.
async fn backend(port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let body = Bytes::from(vec![b'x'; BODY_LEN]);
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let body = body.clone();
                async move { Ok::<_, Infallible>(hyper::Response::new(Full::new(body))) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn run() -> Result<(), BenchError> {
    let flags = Flags::parse(&["rounds", "duration", "connections"])?;
    let rounds: usize = flags.get("rounds", 3)?;
    let shape = Shape {
        duration: Duration::from_secs(flags.get("duration", 5)?),
        connections: flags.get("connections", 64)?,
    };
    require_tool("wrk", "wrk")?;
    require_tool("nginx", "nginx-light")?;
    let bin = devserve_bin()?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("index.html"), "<!doctype html><p>hi</p>\n")?;

    let (_servers, [backend_port, devserve_port, nginx_port]) =
        start_servers(&bin, dir.path(), &root, rounds, shape)?;
    let targets = [
        ("direct", backend_port),
        ("devserve --proxy", devserve_port),
        ("nginx proxy_pass", nginx_port),
    ];
    for (_, port) in targets {
        expect_ok(
            port,
            PATH,
            &[],
            Some(&format!("content-length: {BODY_LEN}")),
            None,
        )?;
    }
    // One short untimed run each first (connection pools, caches).
    let warm_up = Shape {
        duration: Duration::from_secs(1),
        ..shape
    };
    for (_, port) in targets {
        let _ = wrk(&format!("http://127.0.0.1:{port}{PATH}"), &[], warm_up);
    }
    let mut runs: Vec<Vec<Load>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for ((who, port), runs) in targets.iter().zip(&mut runs) {
            match wrk(&format!("http://127.0.0.1:{port}{PATH}"), &[], shape) {
                Ok(load) => {
                    let p99 = load.p99_ms.unwrap_or(f64::NAN);
                    println!(
                        "round {round}/{rounds}  {who:<18} {:>9.0} req/s  p99 {p99:.2} ms",
                        load.rps
                    );
                    runs.push(load);
                }
                Err(error) => println!("round {round}/{rounds}  {who:<18} failed: {error}"),
            }
        }
    }
    print_table("bench_proxy", &rows(&runs));
    Ok(())
}

/// The backend, devserve proxying to it and nginx proxying to it, all on
/// the server CPU; their guards and ports.
fn start_servers(
    bin: &Path,
    dir: &Path,
    root: &Path,
    rounds: usize,
    shape: Shape,
) -> Result<(Vec<Guard>, [u16; 3]), BenchError> {
    let backend_port = free_port()?;
    let budget = (shape.duration.as_secs() + 5) * 3 * rounds as u64 + 60;
    let mut command = pinned(SERVER_CPU, std::env::current_exe()?);
    command.args([
        "--serve-backend",
        &backend_port.to_string(),
        &budget.to_string(),
    ]);
    let backend = Guard::spawn(command, "the hyper backend")?;
    wait_for_port(backend_port, Duration::from_secs(5))?;

    let devserve_port = free_port()?;
    let mut command = pinned(SERVER_CPU, bin);
    command.arg(root).args([
        "--port",
        &devserve_port.to_string(),
        "--strict-port",
        "--quiet",
        "--no-watch",
        "--proxy",
        &format!("/api=http://127.0.0.1:{backend_port}"),
    ]);
    let devserve = Guard::spawn(command, "devserve")?;
    wait_for_port(devserve_port, Duration::from_secs(10))?;

    let nginx_port = free_port()?;
    let conf = nginx::proxy_conf(dir, nginx_port, backend_port);
    let nginx = nginx::start(&conf, &dir.join("nginx"), "nginx-proxy", nginx_port)?;

    Ok((
        vec![backend, devserve, nginx],
        [backend_port, devserve_port, nginx_port],
    ))
}

/// Requests/s and p99 rows from the runs of direct, devserve and nginx.
fn rows(runs: &[Vec<Load>]) -> Vec<Row> {
    let rate = |i: usize| -> Option<f64> {
        let v: Vec<f64> = runs[i].iter().map(|l| l.rps).collect();
        (!v.is_empty()).then(|| median(&v))
    };
    let p99 = |i: usize| -> Option<f64> {
        let v: Vec<f64> = runs[i].iter().filter_map(|l| l.p99_ms).collect();
        (!v.is_empty()).then(|| median(&v))
    };
    let show =
        |v: Option<f64>, unit: &str| v.map_or("failed".to_string(), |v| format!("{v:.2} {unit}"));
    vec![
        Row {
            what: format!(
                "1 KB through the proxy, req/s (direct {})",
                show(rate(0), "req/s")
            ),
            ours: show(rate(1), "req/s"),
            anchor: format!("nginx {}", show(rate(2), "req/s")),
            ratio: format!(
                "{} direct (nginx {} direct); {} nginx",
                ratio(rate(1), rate(0)),
                ratio(rate(2), rate(0)),
                ratio(rate(1), rate(2))
            ),
            goal: "beside nginx".into(),
        },
        Row {
            what: format!(
                "1 KB through the proxy, p99 latency (direct {})",
                show(p99(0), "ms")
            ),
            ours: show(p99(1), "ms"),
            anchor: format!("nginx {}", show(p99(2), "ms")),
            ratio: format!("{} nginx", ratio(p99(1), p99(2))),
            goal: "beside nginx".into(),
        },
    ]
}
