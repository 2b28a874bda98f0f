//! A small but real build tool with devserve embedded.
//!
//! It watches `src/`, turns `*.md` into HTML pages and checks and copies
//! `*.css` into `dist/`, and drives the browsers through devserve's
//! [`devserve::Handle`]: `invalid` when a build starts, `ok` when it worked,
//! `errors` (with `file:line` and ANSI colour) when a stylesheet has
//! unbalanced braces.
//!
//! ```text
//! cargo run --example embed_build_tool -- [SRC] [DIST]     # defaults: examples/embed/src, a temp folder
//! ```
//! Open the printed URL, edit the sources, and watch the page follow.

use devserve::{Overlay, Server};
use std::path::{Path, PathBuf};

/// One problem found in a source file.
struct Problem {
    file: PathBuf,
    line: usize,
    message: String,
}

impl Problem {
    /// `file:line: error: message`, coloured for the overlay.
    fn render(&self, src: &Path) -> String {
        let file = self.file.strip_prefix(src).unwrap_or(&self.file).display();
        format!(
            "\x1b[1m{file}:{}\x1b[0m: \x1b[31merror\x1b[0m: {}",
            self.line, self.message
        )
    }
}

/// Escape text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A deliberately small Markdown subset: `# ` headings and paragraphs, `code` spans.
fn markdown_to_html(source: &str) -> String {
    let mut body = String::new();
    for block in source
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        let (tag, text) = match block.strip_prefix("# ") {
            Some(heading) => ("h1", heading),
            None => ("p", block),
        };
        let mut html = String::new();
        for (i, part) in escape(text).split('`').enumerate() {
            if i % 2 == 1 {
                html.push_str(&format!("<code>{part}</code>"));
            } else {
                html.push_str(part);
            }
        }
        body.push_str(&format!("<{tag}>{html}</{tag}>\n"));
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body>\n{body}</body></html>\n"
    )
}

/// Check that braces balance; report the line where they stop balancing.
fn check_css(file: &Path, source: &str) -> Result<(), Problem> {
    let mut depth = 0i32;
    let mut opened_at = 0;
    for (n, line) in source.lines().enumerate() {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened_at = n + 1;
                }
                '}' if depth == 0 => {
                    return Err(Problem {
                        file: file.into(),
                        line: n + 1,
                        message: "unexpected '}'".into(),
                    });
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
    }
    if depth > 0 {
        return Err(Problem {
            file: file.into(),
            line: opened_at,
            message: "'{' is never closed".into(),
        });
    }
    Ok(())
}

/// Build every source file into `dist`; the problems found, if any.
fn build(src: &Path, dist: &Path) -> std::io::Result<Vec<Problem>> {
    std::fs::create_dir_all(dist)?;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(src)? {
        let path = entry?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some("md") => {
                let html = markdown_to_html(&std::fs::read_to_string(&path)?);
                std::fs::write(dist.join(name).with_extension("html"), html)?;
            }
            Some("css") => {
                let css = std::fs::read_to_string(&path)?;
                match check_css(&path, &css) {
                    Ok(()) => std::fs::write(dist.join(name), css)?,
                    Err(problem) => problems.push(problem),
                }
            }
            _ => {}
        }
    }
    Ok(problems)
}

/// A build hash from the output files' names and contents.
fn hash_of(dist: &Path) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut entries: Vec<_> = std::fs::read_dir(dist)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for b in path.to_string_lossy().bytes().chain(bytes) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let src =
        PathBuf::from(args.next().unwrap_or_else(|| "examples/embed/src".into())).canonicalize()?;
    let temp = tempfile::tempdir()?;
    let dist = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().join("dist"));
    std::fs::create_dir_all(&dist)?;
    let dist = dist.canonicalize()?;
    build(&src, &dist)?;

    let server = Server::builder()
        .root(&dist)
        .bind("127.0.0.1:0".parse()?)
        .watch_path(&src)
        .reload_on_change(false)
        .overlay(Overlay {
            errors: true,
            warnings: true,
        })
        .start()
        .await?;
    println!("building {} into {}", src.display(), dist.display());
    println!(
        "open http://localhost:{}/index.html",
        server.local_addr().port()
    );
    let handle = server.handle();
    let mut changes = server.changes();
    while let Ok(change) = changes.recv().await {
        // Our own output lands in dist/: only source changes start a build.
        if !change.paths.iter().any(|p| p.starts_with(&src)) {
            continue;
        }
        handle.invalid();
        match build(&src, &dist) {
            Ok(problems) if problems.is_empty() => {
                let hash = hash_of(&dist);
                println!("built {hash}: told {} browsers", handle.ok(&hash));
            }
            Ok(problems) => {
                let messages: Vec<String> = problems.iter().map(|p| p.render(&src)).collect();
                for message in &messages {
                    eprintln!("{message}");
                }
                handle.errors(&hash_of(&dist), messages);
            }
            Err(error) => {
                handle.errors("", vec![format!("build failed: {error}")]);
            }
        }
    }
    Ok(())
}
