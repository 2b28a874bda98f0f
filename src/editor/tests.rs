use super::*;
use std::ffi::OsStr;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn authority() -> Authority {
    Authority {
        host: "127.0.0.1".into(),
        port: Some(8080),
    }
}

fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(OPEN_EDITOR_PATH);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("request").into_parts().0
}

fn check(method: &str, headers: &[(&str, &str)]) -> Result<(), Decision> {
    check_request(&parts(method, headers), &authority(), "http", TOKEN)
}

#[test]
fn only_same_origin_posts_with_the_token_pass() {
    let same = ("sec-fetch-site", "same-origin");
    let token = (TOKEN_HEADER, TOKEN);
    assert_eq!(check("POST", &[same, token]), Ok(()));
    assert_eq!(
        check("POST", &[("origin", "http://127.0.0.1:8080"), token]),
        Ok(()),
        "an Origin equal to the Host's origin, without Sec-Fetch-Site"
    );
    assert_eq!(
        check("GET", &[same, token]),
        Err(Decision::MethodNotAllowed)
    );
    assert_eq!(
        check("PUT", &[same, token]),
        Err(Decision::MethodNotAllowed)
    );
    let cross = Err(Decision::Forbidden("Cross-origin request blocked"));
    for site in ["cross-site", "same-site", "none"] {
        let origin = ("origin", "http://127.0.0.1:8080");
        assert_eq!(
            check("POST", &[("sec-fetch-site", site), origin, token]),
            cross,
            "{site}"
        );
    }
    for origin in [
        "http://evil.test",
        "http://127.0.0.1:8081",
        "https://127.0.0.1:8080",
        "null",
    ] {
        assert_eq!(
            check("POST", &[("origin", origin), token]),
            cross,
            "{origin}"
        );
    }
    assert_eq!(
        check("POST", &[token]),
        cross,
        "no origin information at all"
    );
    assert_eq!(
        check("POST", &[same, same, token]),
        cross,
        "a repeated header"
    );
    let origin = ("origin", "http://127.0.0.1:8080");
    assert_eq!(
        check(
            "POST",
            &[("sec-fetch-site", "cross-site"), same, origin, token]
        ),
        cross,
        "a repeated Sec-Fetch-Site does not fall back to Origin"
    );
    let bad_token = Err(Decision::Forbidden("Invalid token"));
    assert_eq!(check("POST", &[same]), bad_token);
    assert_eq!(check("POST", &[same, (TOKEN_HEADER, "")]), bad_token);
    assert_eq!(
        check("POST", &[same, (TOKEN_HEADER, &TOKEN[1..])]),
        bad_token
    );
    let mut wrong = TOKEN.to_string();
    wrong.replace_range(31.., "0");
    assert_eq!(check("POST", &[same, (TOKEN_HEADER, &wrong)]), bad_token);
}

#[test]
fn tokens_are_random_hex_and_compared_exactly() {
    let (a, b) = (random_token(), random_token());
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
}

#[test]
fn bodies_must_name_a_file_and_a_line() {
    let ok = parse_body(br#"{"file":"src/a.ts","line":3,"column":15}"#).expect("valid");
    assert_eq!(
        (ok.file.as_str(), ok.line, ok.column),
        ("src/a.ts", 3, Some(15))
    );
    assert_eq!(
        parse_body(br#"{"file":"a","line":1}"#).map(|l| l.column),
        Ok(None)
    );
    for bad in [
        &b""[..],
        b"not json",
        br#"{"file":"a"}"#,
        br#"{"file":"a","line":0}"#,
        br#"{"file":"a","line":-1}"#,
        br#"{"file":"","line":1}"#,
        br#"{"file":"a\u0000b","line":1}"#,
        br#"{"file":"a","line":1,"cmd":"rm"}"#,
    ] {
        assert!(
            matches!(parse_body(bad), Err(Decision::BadBody(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn files_must_resolve_under_a_root() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().canonicalize().expect("canonical");
    let root = base.join("site");
    let watched = base.join("src");
    let outside = base.join("secret");
    for folder in [&root, &watched, &outside] {
        std::fs::create_dir_all(folder).expect("folder");
    }
    std::fs::write(root.join("index.html"), "x").expect("file");
    std::fs::write(watched.join("app.ts"), "x").expect("file");
    std::fs::write(outside.join("key.txt"), "x").expect("file");
    let roots = vec![root.clone(), watched.clone()];
    let locate = |file: &str| locate(file, &roots, Some(&base));

    assert_eq!(
        locate("src/app.ts"),
        Ok(watched.join("app.ts")),
        "relative to the working folder"
    );
    assert_eq!(
        locate("app.ts"),
        Ok(watched.join("app.ts")),
        "relative to a root"
    );
    assert_eq!(
        locate(&root.join("index.html").to_string_lossy()),
        Ok(root.join("index.html"))
    );
    assert_eq!(
        locate("http://127.0.0.1:8080/index.html?v=1#x"),
        Ok(root.join("index.html")),
        "a URL"
    );
    assert_eq!(locate("secret/key.txt"), Err(Decision::Outside));
    assert_eq!(
        locate(&outside.join("key.txt").to_string_lossy()),
        Err(Decision::Outside)
    );
    assert_eq!(
        locate("src/../secret/key.txt"),
        Err(Decision::Outside),
        "dot-dot is resolved, then checked"
    );
    assert_eq!(
        locate("http://h/../secret/key.txt"),
        Err(Decision::NotFound),
        "no dot-dot in URLs"
    );
    assert_eq!(
        locate("http://h/%2e%2e/secret/key.txt"),
        Err(Decision::NotFound)
    );
    assert_eq!(locate("nope.ts"), Err(Decision::NotFound));
    assert_eq!(
        locate("src"),
        Err(Decision::NotFound),
        "folders are not files"
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.join("key.txt"), root.join("link.txt"))
            .expect("symlink");
        assert_eq!(
            locate("link.txt"),
            Err(Decision::Outside),
            "a symlink out of the root"
        );
    }
}

#[test]
fn the_command_comes_from_the_config_then_visual_then_editor() {
    assert_eq!(
        choose_command(Some("my-ed --x"), Some("vim"), Some("nano")),
        ["my-ed", "--x"]
    );
    assert_eq!(choose_command(None, Some("nvim"), Some("nano")), ["nvim"]);
    assert_eq!(
        choose_command(None, Some("  "), Some("code --wait")),
        ["code", "--wait"]
    );
    assert_eq!(choose_command(None, None, None), ["code"]);
}

#[test]
fn each_editor_gets_the_location_its_own_way() {
    let file = Path::new("/w/src/a b.ts");
    let args = |command: &[&str]| {
        let command: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        launch_args(&command, file, 3, 15)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(args(&["code"]), ["code", "-g", "/w/src/a b.ts:3:15"]);
    assert_eq!(
        args(&["/usr/bin/code", "-g"]),
        ["/usr/bin/code", "-g", "/w/src/a b.ts:3:15"]
    );
    assert_eq!(
        args(&["code", "--wait"]),
        ["code", "--wait", "-g", "/w/src/a b.ts:3:15"]
    );
    assert_eq!(args(&["subl"]), ["subl", "/w/src/a b.ts:3:15"]);
    assert_eq!(args(&["zed"]), ["zed", "/w/src/a b.ts:3:15"]);
    assert_eq!(args(&["idea"]), ["idea", "--line", "3", "/w/src/a b.ts"]);
    assert_eq!(args(&["vim"]), ["vim", "+3", "/w/src/a b.ts"]);
    assert_eq!(
        args(&["emacsclient", "-n"]),
        ["emacsclient", "-n", "+3", "/w/src/a b.ts"]
    );
    assert_eq!(
        args(&["ed", "--at={line}:{column}", "{file}"]),
        ["ed", "--at=3:15", "/w/src/a b.ts"],
        "placeholders, the file as one argument"
    );
    let raw = launch_args(
        &["x".into(), "{file}".into()],
        Path::new("/a;rm -rf ~"),
        1,
        1,
    );
    assert_eq!(
        raw[1],
        OsStr::new("/a;rm -rf ~"),
        "no shell: metacharacters stay inert"
    );
}

#[test]
fn each_decision_has_its_status() {
    let status = |d: Decision| render(d).status().as_u16();
    assert_eq!(status(Decision::MethodNotAllowed), 405);
    assert_eq!(status(Decision::Forbidden("x")), 403);
    assert_eq!(status(Decision::BadBody("x")), 400);
    assert_eq!(status(Decision::Outside), 403);
    assert_eq!(status(Decision::NotFound), 404);
    let allow = render(Decision::MethodNotAllowed);
    assert_eq!(allow.headers()[header::ALLOW], "POST");
}

#[test]
fn debug_output_hides_the_token() {
    let editor = Editor::new(&[], Some("vim"));
    let shown = format!("{editor:?}");
    assert!(
        shown.contains("vim") && !shown.contains(editor.token()),
        "{shown}"
    );
}
