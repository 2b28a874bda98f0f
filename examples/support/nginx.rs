//! nginx as the anchor: configurations for static files (tuned and plain)
//! and for a reverse proxy, started in the foreground on the server CPU.

use super::spawn::{pinned, require_tool, wait_for_port, BenchError, Guard, SERVER_CPU};
use std::path::Path;
use std::time::Duration;

/// How nginx serves static files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// One worker, `open_file_cache`, sendfile, `tcp_nopush`, no access log,
    /// a high `keepalive_requests`.
    Tuned,
    /// One worker and nginx's defaults otherwise (no sendfile, no file
    /// cache, 1000 requests per connection); the access log goes to
    /// `/dev/null` so it costs its formatting but no disk.
    Plain,
}

/// The lines every configuration starts with: foreground, one worker,
/// every file under `dir`.
fn preamble(dir: &Path) -> String {
    let d = dir.display();
    let user = if rustix::process::getuid().is_root() {
        "user root;\n"
    } else {
        ""
    };
    format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n{user}\
         events {{ worker_connections 4096; }}\n"
    )
}

/// Temporary-file folders, so nginx never writes outside `dir`.
fn temp_paths(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n"
    )
}

/// Static files from `root` on `port`, and over h2c (HTTP/2 with prior
/// knowledge) on `h2_port` when given.
pub fn static_conf(
    flavor: Flavor,
    dir: &Path,
    root: &Path,
    port: u16,
    h2_port: Option<u16>,
) -> String {
    let settings = match flavor {
        Flavor::Tuned => {
            "access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
             open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;\n"
        }
        Flavor::Plain => "access_log /dev/null;\n",
    };
    let r = root.display();
    let mut servers = format!("server {{ listen 127.0.0.1:{port}; root {r}; }}\n");
    if let Some(h2) = h2_port {
        servers.push_str(&format!(
            "server {{ listen 127.0.0.1:{h2} http2; root {r}; }}\n"
        ));
    }
    format!(
        "{}http {{\ndefault_type text/plain;\n{}{settings}{servers}}}\n",
        preamble(dir),
        temp_paths(dir)
    )
}

/// A reverse proxy on `port` passing `/api/` to `backend_port` over a
/// pool of kept-alive upstream connections.
pub fn proxy_conf(dir: &Path, port: u16, backend_port: u16) -> String {
    format!(
        "{}http {{\naccess_log off; keepalive_requests 1000000;\n{}\
         upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; keepalive_requests 1000000; }}\n\
         server {{ listen 127.0.0.1:{port};\n\
           location /api/ {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }}\n}}\n",
        preamble(dir),
        temp_paths(dir)
    )
}

/// Writes `conf` as `dir/name.conf` and starts nginx with it on the server
/// CPU; returns once `probe_port` accepts connections.
pub fn start(conf: &str, dir: &Path, name: &str, probe_port: u16) -> Result<Guard, BenchError> {
    let nginx = require_tool("nginx", "nginx-light")?;
    std::fs::create_dir_all(dir)?;
    let file = dir.join(format!("{name}.conf"));
    std::fs::write(&file, conf)?;
    let mut command = pinned(SERVER_CPU, nginx);
    command.arg("-p").arg(dir).arg("-c").arg(&file);
    let mut guard = Guard::spawn(command, name)?;
    if let Err(error) = wait_for_port(probe_port, Duration::from_secs(5)) {
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        let last = log.lines().last().unwrap_or("no error log");
        return Err(format!("{name} did not start ({error}): {last}").into());
    }
    guard.check_alive()?;
    Ok(guard)
}
