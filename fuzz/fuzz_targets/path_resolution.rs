//! Any request path resolves inside the served root, or is refused.
#![no_main]

use devserve::fuzzing::{resolve_path, Resolved};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A root with a dotfile, a folder, and a symlink to a secret outside it.
fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let outer = std::env::temp_dir().join(format!("devserve-fuzz-{}", std::process::id()));
        let root = outer.join("root");
        let _ = std::fs::create_dir_all(root.join("dir/sub"));
        let _ = std::fs::write(root.join("index.html"), "home");
        let _ = std::fs::write(root.join("dir/a.txt"), "a");
        let _ = std::fs::write(root.join(".env"), "secret");
        let _ = std::fs::write(outer.join("secret.txt"), "secret");
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(outer.join("secret.txt"), root.join("link"));
        root.canonicalize().expect("fuzz root")
    })
}

fuzz_target!(|data: &[u8]| {
    let raw = format!("/{}", String::from_utf8_lossy(data));
    match resolve_path(root(), &raw) {
        Resolved::Inside(path) => {
            assert!(path.starts_with(root()), "{raw:?} escaped to {}", path.display());
            assert!(!path.ends_with(".env"), "{raw:?} served a dotfile");
        }
        Resolved::Redirect(location) => {
            assert!(location.starts_with('/'), "{location}");
            assert!(!location.starts_with("//") && !location.starts_with("/\\"), "{raw:?} -> {location}");
        }
        Resolved::Refused => {}
    }
});
