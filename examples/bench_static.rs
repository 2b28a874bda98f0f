//! Benchmark: devserve's static files beside nginx, change → client
//! latency, and cold start.
//!
//! Throughput (server on CPU 0, load generator on CPU 1, runs alternating
//! devserve / nginx / … for `--rounds` rounds of `--duration` seconds; the
//! median of each is reported):
//! - 4 KB and 100 KB files over HTTP/1.1 keep-alive (`wrk -t2 -c64`):
//!   devserve, nginx tuned (1 worker, `open_file_cache`, sendfile,
//!   `tcp_nopush`, no access log, high `keepalive_requests`) and plain nginx
//!   (1 worker, defaults);
//! - 4 KB from `hyper_floor` (built beside this example): hyper and tokio
//!   alone answering with the same bytes and headers from memory, the
//!   ceiling of devserve's stack; and each server's CPU time per request,
//!   user space and kernel, read from `/proc`;
//! - 4 KB with `Accept-Encoding: br`: devserve compressing (its default,
//!   cached variants) beside devserve `--no-compress` (budget: within 10%);
//! - 4 KB over HTTP/2 with prior knowledge (`h2load -c32 -m10`), devserve's
//!   plain port beside nginx `listen … http2`.
//!
//! Latency: a raw SockJS WebSocket client on `/sockjs-node` times each file
//! write on tmpfs (`/dev/shm`), from the write's return to the `ok` message,
//! p50/p99 over `--writes` writes; then a 200-file burst must give exactly one
//! change set. Cold start: spawn → first 200, median of 20.
//!
//! ```text
//! apt-get install -y wrk nginx-light nghttp2-client util-linux
//! cargo build --release --bins --examples
//! ./target/release/examples/bench_static [--rounds 3] [--duration 5] [--connections 64] [--writes 100]
//! ```
//! Loopback only; every run is bounded in time, and every process it starts
//! ends with it. Run it on an otherwise idle machine with at least 2 CPUs;
//! the summary table at the end is Markdown.

#[allow(dead_code)] // each benchmark uses a part of the shared helpers
#[path = "support/mod.rs"]
mod support;

use futures_util::StreamExt;
use std::path::Path;
use std::time::{Duration, Instant};
use support::flags::Flags;
use support::load::{expect_ok, h2load, probe, wrk, Load, Shape};
use support::nginx::{self, Flavor};
use support::proc::tree_cpu_time;
use support::report::{median, percentile, print_table, ratio, Row};
use support::spawn::{
    devserve_bin, free_port, pinned, require_tool, run_pinned, sibling_bin, wait_for_port,
    BenchError, Guard, SERVER_CPU,
};
use tokio_tungstenite::tungstenite::Message;

const SMALL: &str = "/4k.txt";
const LARGE: &str = "/100k.txt";
const BROTLI: &[&str] = &["Accept-Encoding: br"];

fn main() -> std::process::ExitCode {
    run_pinned("bench_static", run())
}

async fn run() -> Result<(), BenchError> {
    let flags = Flags::parse(&["rounds", "duration", "connections", "writes"])?;
    let rounds: usize = flags.get("rounds", 3)?;
    let shape = Shape {
        duration: Duration::from_secs(flags.get("duration", 5)?),
        connections: flags.get("connections", 64)?,
    };
    let writes: usize = flags.get("writes", 100)?;
    for (tool, package) in [
        ("wrk", "wrk"),
        ("h2load", "nghttp2-client"),
        ("nginx", "nginx-light"),
    ] {
        require_tool(tool, package)?;
    }
    let bin = devserve_bin()?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("site");
    write_site(&root)?;

    let mut rows = throughput(&bin, dir.path(), &root, rounds, shape)?;
    rows.extend(change_latency(&bin, writes).await?);
    rows.push(cold_start(&bin, &root)?);
    print_table("bench_static", &rows);
    Ok(())
}

/// Text files of exactly 4 KB and 100 KB (compressible, like source code).
fn write_site(root: &Path) -> Result<(), BenchError> {
    std::fs::create_dir_all(root)?;
    let text = |len: usize| {
        let mut s = String::new();
        let mut i = 0u32;
        while s.len() < len {
            s.push_str(&format!(
                "export const value{i} = \"{:08x}\";\n",
                i.wrapping_mul(2_654_435_761)
            ));
            i += 1;
        }
        s.truncate(len);
        s
    };
    std::fs::write(root.join("4k.txt"), text(4096))?;
    std::fs::write(root.join("100k.txt"), text(100 * 1024))?;
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>bench</title><p>hi</p>\n",
    )?;
    Ok(())
}

/// A release devserve serving `root` on the server CPU.
fn start_devserve(bin: &Path, root: &Path, extra: &[&str]) -> Result<(Guard, u16), BenchError> {
    let port = free_port()?;
    let mut command = pinned(SERVER_CPU, bin);
    command
        .arg(root)
        .args(["--port", &port.to_string(), "--strict-port", "--quiet"])
        .args(extra);
    let guard = Guard::spawn(command, "devserve")?;
    wait_for_port(port, Duration::from_secs(10))?;
    Ok((guard, port))
}

#[derive(Debug, Clone, Copy)]
enum Tool {
    Wrk,
    H2load,
}

/// One load to run each round.
#[derive(Debug)]
struct Case {
    row: &'static str,
    who: &'static str,
    /// The server process (its children, nginx's workers, count too).
    pid: u32,
    port: u16,
    path: &'static str,
    headers: &'static [&'static str],
    tool: Tool,
}

fn case(row: &'static str, who: &'static str, server: (u32, u16), path: &'static str) -> Case {
    let (pid, port) = server;
    Case {
        row,
        who,
        pid,
        port,
        path,
        headers: &[],
        tool: Tool::Wrk,
    }
}

/// Every server up at once (idle ones cost nothing), the cases alternating
/// between them round after round.
fn throughput(
    bin: &Path,
    dir: &Path,
    root: &Path,
    rounds: usize,
    shape: Shape,
) -> Result<Vec<Row>, BenchError> {
    let (_ours, port) = start_devserve(bin, root, &[])?;
    let floor_port = free_port()?;
    let mut command = pinned(SERVER_CPU, sibling_bin(Path::new("hyper_floor"))?);
    command.arg(floor_port.to_string()).arg(root.join("4k.txt"));
    let floor = Guard::spawn(command, "hyper_floor")?;
    wait_for_port(floor_port, Duration::from_secs(10))?;
    let (_ours_plain, plain_port) = start_devserve(bin, root, &["--no-compress"])?;
    let (tuned_port, tuned_h2, stock_port) = (free_port()?, free_port()?, free_port()?);
    let tuned_conf = nginx::static_conf(Flavor::Tuned, dir, root, tuned_port, Some(tuned_h2));
    let _tuned = nginx::start(
        &tuned_conf,
        &dir.join("nginx-tuned"),
        "nginx-tuned",
        tuned_port,
    )?;
    let stock_conf = nginx::static_conf(Flavor::Plain, dir, root, stock_port, None);
    let _stock = nginx::start(
        &stock_conf,
        &dir.join("nginx-plain"),
        "nginx-plain",
        stock_port,
    )?;

    expect_ok(port, SMALL, BROTLI, Some("content-encoding: br"), None)?;
    expect_ok(plain_port, SMALL, BROTLI, None, Some("content-encoding"))?;
    for p in [port, tuned_port, stock_port] {
        expect_ok(p, SMALL, &[], None, Some("content-encoding"))?;
        expect_ok(p, LARGE, &[], None, None)?;
    }
    let h2 = |who, server| Case {
        tool: Tool::H2load,
        ..case("4 KB over HTTP/2", who, server, SMALL)
    };
    let brotli = |who, server| Case {
        headers: BROTLI,
        ..case("4 KB, Accept-Encoding: br", who, server, SMALL)
    };
    let ours = (_ours.pid(), port);
    let tuned = (_tuned.pid(), tuned_port);
    let stock = (_stock.pid(), stock_port);
    let cases = [
        case("4 KB", "devserve", ours, SMALL),
        case("4 KB", "nginx tuned", tuned, SMALL),
        case("4 KB", "nginx plain", stock, SMALL),
        case("4 KB", "hyper floor", (floor.pid(), floor_port), SMALL),
        case("100 KB", "devserve", ours, LARGE),
        case("100 KB", "nginx tuned", tuned, LARGE),
        case("100 KB", "nginx plain", stock, LARGE),
        brotli("devserve", ours),
        brotli("devserve --no-compress", (_ours_plain.pid(), plain_port)),
        h2("devserve", ours),
        h2("nginx tuned", (_tuned.pid(), tuned_h2)),
    ];
    let results = alternate(&cases, rounds, shape);
    Ok(throughput_rows(&cases, &results))
}

/// The summary rows: medians per server and their ratios.
fn throughput_rows(cases: &[Case], results: &[Vec<Run>]) -> Vec<Row> {
    let med_of = |row: &str, who: &str, value: fn(&Run) -> f64| -> Option<f64> {
        let values: Vec<f64> = cases
            .iter()
            .zip(results)
            .filter(|(c, _)| c.row == row && c.who == who)
            .flat_map(|(_, r)| r.iter().map(value))
            .collect();
        (!values.is_empty()).then(|| median(&values))
    };
    let med = |row: &str, who: &str| med_of(row, who, |r| r.load.rps);
    let show = |v: Option<f64>| v.map_or("failed".to_string(), |v| format!("{v:.0} req/s"));
    let mut rows = Vec::new();
    for (row, size) in [("4 KB", "4 KB file"), ("100 KB", "100 KB file")] {
        let (ours, tuned, stock) = (
            med(row, "devserve"),
            med(row, "nginx tuned"),
            med(row, "nginx plain"),
        );
        rows.push(Row {
            what: format!("{size}, HTTP/1.1, req/s"),
            ours: show(ours),
            anchor: format!("nginx tuned {}; plain {}", show(tuned), show(stock)),
            ratio: format!("{} tuned, {} plain", ratio(ours, tuned), ratio(ours, stock)),
            goal: "≥ 1.0× tuned".into(),
        });
    }
    let floor = med("4 KB", "hyper floor");
    let ours = med("4 KB", "devserve");
    rows.push(Row {
        what: "4 KB: hyper + tokio alone, the same bytes from memory".into(),
        ours: show(ours),
        anchor: format!("hyper floor {}", show(floor)),
        ratio: ratio(ours, floor),
        goal: "the stack's ceiling".into(),
    });
    let cpu = |who: &str| {
        let user = med_of("4 KB", who, |r| r.user_us)?;
        let system = med_of("4 KB", who, |r| r.system_us)?;
        Some((user, system))
    };
    let show_cpu = |v: Option<(f64, f64)>| {
        v.map_or("failed".to_string(), |(u, k)| {
            format!("{u:.2} µs user + {k:.2} µs kernel")
        })
    };
    let (ours, tuned) = (cpu("devserve"), cpu("nginx tuned"));
    rows.push(Row {
        what: "4 KB, server CPU per request".into(),
        ours: show_cpu(ours),
        anchor: format!(
            "nginx tuned {}; hyper floor {}",
            show_cpu(tuned),
            show_cpu(cpu("hyper floor"))
        ),
        ratio: format!(
            "{} user, {} kernel",
            ratio(ours.map(|c| c.0), tuned.map(|c| c.0)),
            ratio(ours.map(|c| c.1), tuned.map(|c| c.1))
        ),
        goal: "—".into(),
    });
    let row = "4 KB, Accept-Encoding: br";
    let (compressed, identity) = (med(row, "devserve"), med(row, "devserve --no-compress"));
    rows.push(Row {
        what: "4 KB, br (cached) vs --no-compress, req/s".into(),
        ours: show(compressed),
        anchor: format!("--no-compress {}", show(identity)),
        ratio: ratio(compressed, identity),
        goal: "≥ 0.90×".into(),
    });
    let (ours, tuned) = (
        med("4 KB over HTTP/2", "devserve"),
        med("4 KB over HTTP/2", "nginx tuned"),
    );
    rows.push(Row {
        what: "4 KB, h2c (h2load -c32 -m10), req/s".into(),
        ours: show(ours),
        anchor: format!("nginx tuned http2 {}", show(tuned)),
        ratio: ratio(ours, tuned),
        goal: "beside nginx".into(),
    });
    rows
}

/// One timed run: the load, and the server's CPU time per request.
#[derive(Debug, Clone, Copy)]
struct Run {
    load: Load,
    user_us: f64,
    system_us: f64,
}

/// Runs every case once per round, in order; failed runs are reported and
/// left out.
fn alternate(cases: &[Case], rounds: usize, shape: Shape) -> Vec<Vec<Run>> {
    // One short untimed run each first, so no server pays for a cold start
    // (file caches, compressed variants, connection setup) in round 1.
    let warm_up = Shape {
        duration: Duration::from_secs(1),
        ..shape
    };
    for case in cases {
        let _ = run_case(case, warm_up);
    }
    let mut results: Vec<Vec<Run>> = cases.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for (case, runs) in cases.iter().zip(&mut results) {
            let before = tree_cpu_time(case.pid);
            match run_case(case, shape) {
                Ok(load) => {
                    let after = tree_cpu_time(case.pid);
                    let requests = load.rps * shape.duration.as_secs_f64();
                    let per_request = |a: Duration, b: Duration| {
                        a.saturating_sub(b).as_secs_f64() * 1e6 / requests.max(1.0)
                    };
                    let run = Run {
                        load,
                        user_us: per_request(after.user, before.user),
                        system_us: per_request(after.system, before.system),
                    };
                    println!(
                        "round {round}/{rounds}  {:<26} {:<24} {:>9.0} req/s  CPU/request {:.2} µs user + {:.2} µs kernel",
                        case.row, case.who, load.rps, run.user_us, run.system_us
                    );
                    runs.push(run);
                }
                Err(error) => println!(
                    "round {round}/{rounds}  {:<26} {:<24} failed: {error}",
                    case.row, case.who
                ),
            }
        }
    }
    results
}

/// One run of `case`: wrk, or h2load with 32 clients.
fn run_case(case: &Case, shape: Shape) -> Result<Load, BenchError> {
    let url = format!("http://127.0.0.1:{}{}", case.port, case.path);
    match case.tool {
        Tool::Wrk => wrk(&url, case.headers, shape),
        Tool::H2load => {
            let shape = Shape {
                connections: 32,
                ..shape
            };
            h2load(&url, case.headers, shape)
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How many `ok` messages one SockJS frame carries.
fn oks_in(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.as_str().matches(r#"\"type\":\"ok\""#).count(),
        _ => 0,
    }
}

/// Reads frames until one carries `ok`; the time it arrived.
async fn next_ok(ws: &mut Ws, limit: Duration) -> Result<Instant, BenchError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("no `ok` message within {limit:?}"))?
            .ok_or("the SockJS session closed")??;
        if oks_in(&frame) > 0 {
            return Ok(Instant::now());
        }
    }
}

/// Write → `ok` at a raw SockJS WebSocket client, and a 200-file burst.
async fn change_latency(bin: &Path, writes: usize) -> Result<Vec<Row>, BenchError> {
    let shm = Path::new("/dev/shm");
    let (dir, on_tmpfs) = match tempfile::tempdir_in(shm) {
        Ok(dir) => (dir, true),
        Err(_) => (tempfile::tempdir()?, false),
    };
    let root = dir.path();
    std::fs::write(root.join("index.html"), "<!doctype html><p>hi</p>\n")?;
    std::fs::write(root.join("style.css"), "body {}\n")?;
    let (_server, port) = start_devserve(bin, root, &[])?;
    let url = format!("ws://127.0.0.1:{port}/sockjs-node/000/bench/websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    next_ok(&mut ws, Duration::from_secs(5)).await?; // the connect sequence ends with `ok`

    let mut latencies = Vec::with_capacity(writes);
    for i in 0..writes {
        std::fs::write(root.join("style.css"), format!("body {{ order: {i} }}\n"))?;
        let written = Instant::now();
        latencies.push(next_ok(&mut ws, Duration::from_secs(5)).await? - written);
        // Let the write's trailing events settle before the next one.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let (p50, p99) = (percentile(&latencies, 50), percentile(&latencies, 99));
    println!("write → ok: p50 {p50:.2?}, p99 {p99:.2?} over {writes} writes (tmpfs: {on_tmpfs})");

    for i in 0..200 {
        std::fs::write(
            root.join(format!("burst{i}.css")),
            format!("a {{ order: {i} }}\n"),
        )?;
    }
    next_ok(&mut ws, Duration::from_secs(10)).await?;
    let mut change_sets = 1;
    // A split burst would show as a second `ok` soon after the first.
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
        change_sets += oks_in(&frame?);
    }
    println!("200-file burst → {change_sets} change set(s)");
    let place = if on_tmpfs {
        "tmpfs"
    } else {
        "disk, no /dev/shm"
    };
    Ok(vec![
        Row {
            what: format!("file write → `ok` at a raw SockJS client ({place}, {writes} writes)"),
            ours: format!("p50 {:.2} ms, p99 {:.2} ms", ms(p50), ms(p99)),
            anchor: "—".into(),
            ratio: "—".into(),
            goal: "p50 ≤ 2 ms, p99 ≤ 5 ms".into(),
        },
        Row {
            what: "200-file burst".into(),
            ours: format!("{change_sets} change set(s)"),
            anchor: "—".into(),
            ratio: "—".into(),
            goal: "exactly 1".into(),
        },
    ])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Spawn → first 200 for `/4k.txt`, median and worst of 20 starts.
fn cold_start(bin: &Path, root: &Path) -> Result<Row, BenchError> {
    let mut starts = Vec::new();
    for _ in 0..20 {
        let port = free_port()?;
        let mut command = pinned(SERVER_CPU, bin);
        command
            .arg(root)
            .args(["--port", &port.to_string(), "--strict-port", "--quiet"]);
        let started = Instant::now();
        let _server = Guard::spawn(command, "devserve")?;
        starts.push(first_200(port, started)?);
    }
    let (p50, worst) = (percentile(&starts, 50), percentile(&starts, 100));
    println!("cold start → first 200: median {p50:.2?}, worst {worst:.2?} over 20 starts");
    Ok(Row {
        what: "cold start → first 200 (20 starts)".into(),
        ours: format!("median {:.1} ms, worst {:.1} ms", ms(p50), ms(worst)),
        anchor: "—".into(),
        ratio: "—".into(),
        goal: "a few ms".into(),
    })
}

fn first_200(port: u16, started: Instant) -> Result<Duration, BenchError> {
    while started.elapsed() < Duration::from_secs(10) {
        if probe(port, SMALL, &[]).is_ok_and(|head| head.starts_with("http/1.1 200")) {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Err(format!("devserve gave no 200 within 10 s of its start (port {port})").into())
}
