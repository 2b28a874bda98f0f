//! The gates' unit tests and property tests.

use super::*;
use http::{HeaderValue, Request};

fn parts(uri: &str, headers: &[(&str, &[u8])]) -> Parts {
    let mut builder = Request::builder().uri(uri);
    for (name, value) in headers {
        let value = HeaderValue::from_bytes(value).expect("test header value is valid");
        builder = builder.header(*name, value);
    }
    builder.body(()).expect("test request").into_parts().0
}

fn with_host(host: &[u8]) -> Parts {
    parts("/", &[("host", host)])
}

fn policy() -> GuardPolicy {
    GuardPolicy::default()
}

fn auth(host: &str, port: Option<u16>) -> Authority {
    Authority {
        host: host.to_owned(),
        port,
    }
}

/// Whether `bytes` parse as an authority whose host is an IP literal.
fn is_ip_literal(bytes: &[u8]) -> bool {
    authority::parse(bytes).is_some_and(|a| matches!(a.host, Host::Ipv4(_) | Host::Ipv6(_)))
}

const BAD: Rejection = Rejection::BadRequest(INVALID_HOST);
const FORBIDDEN_HOST: Rejection = Rejection::Forbidden(INVALID_HOST);
const FORBIDDEN_ORIGIN: Rejection = Rejection::Forbidden(INVALID_ORIGIN);

#[test]
fn rejection_status_and_message() {
    assert_eq!(BAD.status(), StatusCode::BAD_REQUEST);
    assert_eq!(FORBIDDEN_HOST.status(), StatusCode::FORBIDDEN);
    assert_eq!(BAD.message(), "Invalid Host header");
    assert_eq!(FORBIDDEN_HOST.to_string(), "403 Invalid Host header");
}

#[test]
fn allowed_hosts_by_default() {
    let cases: &[(&str, &str, Option<u16>)] = &[
        ("localhost", "localhost", None),
        ("localhost:8080", "localhost", Some(8080)),
        ("LOCALHOST:8080", "localhost", Some(8080)),
        ("localhost.", "localhost", None),
        ("localhost.:8080", "localhost", Some(8080)),
        ("app.localhost:3000", "app.localhost", Some(3000)),
        ("a.b.LocalHost", "a.b.localhost", None),
        ("127.0.0.1", "127.0.0.1", None),
        ("127.0.0.1:8080", "127.0.0.1", Some(8080)),
        ("192.168.1.5:80", "192.168.1.5", Some(80)),
        ("0.0.0.0:8080", "0.0.0.0", Some(8080)),
        ("[::1]", "::1", None),
        ("[::1]:8080", "::1", Some(8080)),
        ("[0:0:0:0:0:0:0:1]:8080", "::1", Some(8080)),
        ("[FE80::1]:8080", "fe80::1", Some(8080)),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1", None),
        ("localhost:65535", "localhost", Some(65535)),
        ("localhost:080", "localhost", Some(80)),
    ];
    for (value, host, port) in cases {
        let got = check_host(&with_host(value.as_bytes()), &policy());
        assert_eq!(got, Ok(auth(host, *port)), "Host: {value}");
    }
}

#[test]
fn malformed_hosts_are_bad_requests() {
    let cases: &[&[u8]] = &[
        b"",
        b" ",
        b"\t",
        b" localhost",
        b"localhost ",
        b"local host",
        b"[::1",
        b"::1",
        b"[::1]x",
        b"[::1]:",
        b"[::1]]",
        b"[]",
        b"[localhost]",
        b"[fe80::1%25eth0]",
        b"[fe80::1%eth0]",
        b"[127.0.0.1]",
        b"localhost:",
        b"localhost:0",
        b"localhost:65536",
        b"localhost:99999",
        b"localhost:123456",
        b"localhost:-1",
        b"localhost:+80",
        b"localhost:8o",
        b"localhost:80:80",
        b"localhost:8080 ",
        b"user@localhost",
        b"@localhost",
        b"localhost@evil.com",
        b"localhost/x",
        b"localhost/",
        b"localhost\\x",
        b"localhost?x",
        b"localhost#x",
        b"localhost%00",
        b"local%68ost",
        b"localhost,evil.com",
        b"localhost;",
        b"l\xc3\xb4calhost",
        b"\xff\xfe",
        b"\x80",
        b".",
        b"..",
        b".localhost",
        b"localhost..",
        b"a..b",
        b"1.2.3.4.5",
        b"127.1",
        b"2130706433",
        b"0x7f.0.0.1",
        b"0x7f000001",
        b"999.1.1.1",
        b"127.0.0.01",
        b"a.b.1",
        b":8080",
        b"*",
        b"*.localhost",
        b"\"localhost\"",
        b"localhost'",
        b"<script>",
    ];
    for value in cases {
        let got = check_host(&with_host(value), &policy());
        assert_eq!(got, Err(BAD), "Host: {:?}", String::from_utf8_lossy(value));
    }
}

#[test]
fn long_names() {
    let label63 = "a".repeat(63);
    let ok = format!("{label63}.localhost");
    assert!(check_host(&with_host(ok.as_bytes()), &policy()).is_ok());
    let label64 = format!("{}.localhost", "a".repeat(64));
    assert_eq!(
        check_host(&with_host(label64.as_bytes()), &policy()),
        Err(BAD)
    );
    let huge = format!("{}.localhost", ["abc"; 100].join("."));
    assert_eq!(check_host(&with_host(huge.as_bytes()), &policy()), Err(BAD));
    let enormous = "a".repeat(100_000);
    assert_eq!(
        check_host(&with_host(enormous.as_bytes()), &policy()),
        Err(BAD)
    );
}

#[test]
fn other_names_are_forbidden() {
    let cases = [
        "evil.com",
        "evil.com:8080",
        "localhost.evil.com",
        "localhostx",
        "xlocalhost",
        "127.0.0.1.nip.io",
        "dev",
        "my_box",
        "example.com",
        "-",
    ];
    for value in cases {
        let got = check_host(&with_host(value.as_bytes()), &policy());
        assert_eq!(got, Err(FORBIDDEN_HOST), "Host: {value}");
    }
}

#[test]
fn missing_or_duplicated_host() {
    assert_eq!(check_host(&parts("/", &[]), &policy()), Err(BAD));
    let dup = parts("/", &[("host", b"localhost"), ("host", b"localhost")]);
    assert_eq!(check_host(&dup, &policy()), Err(BAD));
    let dup2 = parts("/", &[("host", b"localhost"), ("host", b"evil.com")]);
    assert_eq!(check_host(&dup2, &policy()), Err(BAD));
    // "all" does not excuse a malformed request.
    let all = GuardPolicy {
        allowed_hosts: vec!["all".into()],
        ..policy()
    };
    assert_eq!(check_host(&dup, &all), Err(BAD));
    assert_eq!(check_host(&parts("/", &[]), &all), Err(BAD));
    assert_eq!(check_host(&with_host(b"[::1"), &all), Err(BAD));
}

#[test]
fn absolute_form_target_wins() {
    // The target's authority is checked, whatever Host says.
    let p = parts("http://evil.example/x", &[("host", b"localhost:8080")]);
    assert_eq!(check_host(&p, &policy()), Err(FORBIDDEN_HOST));
    let p = parts("http://localhost:8080/x", &[("host", b"evil.example")]);
    assert_eq!(check_host(&p, &policy()), Ok(auth("localhost", Some(8080))));
    // No Host header at all, but an absolute-form target.
    let p = parts("http://127.0.0.1:9/x", &[]);
    assert_eq!(check_host(&p, &policy()), Ok(auth("127.0.0.1", Some(9))));
    // A bad Host is refused even with a good target (RFC 9112 §3.2).
    let p = parts("http://localhost/x", &[("host", b"[::1")]);
    assert_eq!(check_host(&p, &policy()), Err(BAD));
    let p = parts(
        "http://localhost/x",
        &[("host", b"localhost"), ("host", b"localhost")],
    );
    assert_eq!(check_host(&p, &policy()), Err(BAD));
    // User info in the target.
    let p = parts("http://user@localhost/x", &[("host", b"localhost")]);
    assert_eq!(check_host(&p, &policy()), Err(BAD));
}

#[test]
fn bound_host_and_allowed_hosts() {
    let p = GuardPolicy {
        allowed_hosts: vec![
            ".example.com".into(),
            "dev.test".into(),
            "*.wild.org".into(),
            "Trailing.Dot.".into(),
            " spaced.net ".into(),
            "bad entry".into(),
            "".into(),
        ],
        bound_host: Some("MyBox.LAN".into()),
        allowed_origins: vec![],
    };
    let allowed = [
        "mybox.lan",
        "mybox.lan:8080",
        "MYBOX.LAN.",
        "example.com",
        "a.example.com",
        "a.b.example.com:443",
        "EXAMPLE.COM.",
        "dev.test",
        "wild.org",
        "x.wild.org",
        "trailing.dot",
        "spaced.net",
    ];
    for h in allowed {
        assert!(check_host(&with_host(h.as_bytes()), &p).is_ok(), "{h}");
    }
    let refused = [
        "notexample.com",
        "example.com.evil.net",
        "example.co",
        "x.dev.test",
        "test",
        "mybox.lan.evil.com",
        "xwild.org",
        "bad",
        "entry",
    ];
    for h in refused {
        assert_eq!(
            check_host(&with_host(h.as_bytes()), &p),
            Err(FORBIDDEN_HOST),
            "{h}"
        );
    }
}

#[test]
fn allowed_hosts_all_disables_the_gate() {
    let p = GuardPolicy {
        allowed_hosts: vec!["ALL".into()],
        ..policy()
    };
    assert_eq!(
        check_host(&with_host(b"evil.com:80"), &p),
        Ok(auth("evil.com", Some(80)))
    );
}

fn origin_check(host: &str, origin: Option<&[u8]>, p: &GuardPolicy) -> Result<(), Rejection> {
    let mut headers: Vec<(&str, &[u8])> = vec![("host", host.as_bytes())];
    if let Some(o) = origin {
        headers.push(("origin", o));
    }
    let req = parts("/sockjs-node/info", &headers);
    let authority = check_host(&req, p).expect("host is valid in origin tests");
    check_origin(&req, &authority, p)
}

#[test]
fn origin_same_site() {
    let ok: &[(&str, &[u8])] = &[
        ("localhost:8080", b"http://localhost:8080"),
        ("localhost:8080", b"HTTP://LOCALHOST:8080"),
        ("localhost:8080", b"http://127.0.0.1:8080"),
        ("localhost:8080", b"http://[::1]:8080"),
        ("localhost:8080", b"https://localhost:8080"),
        ("localhost:8080", b"ws://localhost:8080"),
        ("127.0.0.1:8080", b"http://localhost:8080"),
        ("[::1]:8080", b"http://127.0.0.1:8080"),
        ("[0::1]:8080", b"http://[0:0::1]:8080"),
        ("localhost", b"http://localhost"),
        ("localhost", b"http://localhost:80"),
        ("localhost", b"https://localhost"),
        ("localhost:80", b"http://localhost"),
        ("localhost:443", b"https://localhost"),
        ("localhost.:8080", b"http://localhost:8080"),
        ("localhost:8080", b"http://localhost.:8080"),
        ("app.localhost:3000", b"http://app.localhost:3000"),
        ("192.168.1.5:8080", b"http://192.168.1.5:8080"),
    ];
    for (host, origin) in ok {
        assert_eq!(
            origin_check(host, Some(origin), &policy()),
            Ok(()),
            "Host {host}, Origin {:?}",
            String::from_utf8_lossy(origin)
        );
    }
}

#[test]
fn origin_refused() {
    let refused: &[(&str, &[u8])] = &[
        ("localhost:8080", b"null"),
        ("localhost:8080", b"NULL"),
        ("localhost:8080", b"http://localhost:8081"),
        ("localhost:8080", b"http://localhost"),
        ("localhost:8080", b"https://localhost"),
        ("localhost", b"http://localhost:3000"),
        ("localhost:8080", b"http://192.168.1.5:8080"),
        ("localhost:8080", b"http://192.168.1.5"),
        ("localhost:8080", b"http://10.0.0.1:8080"),
        ("localhost:8080", b"http://0.0.0.0:8080"),
        ("192.168.1.5:8080", b"http://192.168.1.6:8080"),
        ("192.168.1.5:8080", b"http://localhost:8080"),
        ("localhost:8080", b"http://evil.com:8080"),
        ("localhost:8080", b"http://localhost.evil.com:8080"),
        ("localhost:8080", b"http://app.localhost:8080"),
        ("app.localhost:8080", b"http://localhost:8080"),
        ("localhost:8080", b"chrome-extension://abcdefgh"),
        ("localhost:8080", b"file://"),
        // Malformed.
        ("localhost:8080", b""),
        ("localhost:8080", b" "),
        ("localhost:8080", b"localhost:8080"),
        ("localhost:8080", b"//localhost:8080"),
        ("localhost:8080", b"http://"),
        ("localhost:8080", b"http:///"),
        ("localhost:8080", b"http://localhost:8080/"),
        ("localhost:8080", b"http://localhost:8080/path"),
        ("localhost:8080", b"http://user@localhost:8080"),
        ("localhost:8080", b"http://localhost:8080?x"),
        ("localhost:8080", b"http://localhost:8080#x"),
        ("localhost:8080", b"http://localhost:8080\\"),
        ("localhost:8080", b"http://localhost:99999"),
        ("localhost:8080", b"http://localhost:"),
        ("localhost:8080", b"http://[::1"),
        ("localhost:8080", b"http://::1:8080"),
        ("localhost:8080", b"://localhost:8080"),
        ("localhost:8080", b"1http://localhost:8080"),
        ("localhost:8080", b"ht tp://localhost:8080"),
        ("localhost:8080", b"http://local host:8080"),
        ("localhost:8080", b"http://l\xc3\xb4calhost:8080"),
        ("localhost:8080", b"\xff"),
        ("localhost:8080", b"http://localhost:8080, http://evil.com"),
        ("localhost:8080", b"http://127.1:8080"),
    ];
    for (host, origin) in refused {
        assert_eq!(
            origin_check(host, Some(origin), &policy()),
            Err(FORBIDDEN_ORIGIN),
            "Host {host}, Origin {:?}",
            String::from_utf8_lossy(origin)
        );
    }
}

#[test]
fn no_origin_passes_and_duplicates_do_not() {
    assert_eq!(origin_check("localhost:8080", None, &policy()), Ok(()));
    let req = parts(
        "/",
        &[
            ("host", b"localhost:8080"),
            ("origin", b"http://localhost:8080"),
            ("origin", b"http://localhost:8080"),
        ],
    );
    let a = check_host(&req, &policy()).expect("host");
    assert_eq!(check_origin(&req, &a, &policy()), Err(FORBIDDEN_ORIGIN));
}

#[test]
fn origin_allow_lists() {
    let p = GuardPolicy {
        allowed_hosts: vec![".example.com".into(), "dev.test".into()],
        bound_host: Some("mybox.lan".into()),
        allowed_origins: vec![
            "https://app.other.org".into(),
            "http://tool.internal:3000/".into(),
            "not an origin".into(),
        ],
    };
    let ok: &[&[u8]] = &[
        b"https://app.other.org",
        b"https://APP.other.org:443",
        b"http://tool.internal:3000",
        b"https://example.com",
        b"https://a.example.com:9999",
        b"http://dev.test",
        b"http://mybox.lan:8080",
    ];
    for origin in ok {
        assert_eq!(
            origin_check("localhost:8080", Some(origin), &p),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(origin)
        );
    }
    let refused: &[&[u8]] = &[
        b"http://app.other.org",
        b"https://app.other.org:8443",
        b"https://x.app.other.org",
        b"http://tool.internal",
        b"https://example.com.evil.net",
        b"https://notexample.com",
        b"http://x.dev.test",
        b"http://mybox.lan:9999",
        b"http://not",
        b"null",
    ];
    for origin in refused {
        assert_eq!(
            origin_check("localhost:8080", Some(origin), &p),
            Err(FORBIDDEN_ORIGIN),
            "{:?}",
            String::from_utf8_lossy(origin)
        );
    }
}

#[test]
fn all_hosts_does_not_open_the_origin_gate() {
    let p = GuardPolicy {
        allowed_hosts: vec!["all".into()],
        ..policy()
    };
    assert_eq!(
        origin_check("localhost:8080", Some(b"https://evil.com"), &p),
        Err(FORBIDDEN_ORIGIN)
    );
    assert_eq!(
        origin_check("evil.com:8080", Some(b"http://evil.com:8080"), &p),
        Ok(())
    );
}

#[test]
fn sec_fetch() {
    let blocked = Err(Rejection::Forbidden(CROSS_ORIGIN));
    type Headers<'a> = &'a [(&'a str, &'a [u8])];
    let cases: &[(Headers<'_>, Result<(), Rejection>)] = &[
        (&[], Ok(())),
        (
            &[
                ("sec-fetch-site", b"cross-site"),
                ("sec-fetch-mode", b"no-cors"),
            ],
            blocked,
        ),
        (
            &[
                ("sec-fetch-site", b"Cross-Site"),
                ("sec-fetch-mode", b"NO-CORS"),
            ],
            blocked,
        ),
        (
            &[
                ("sec-fetch-site", b" cross-site "),
                ("sec-fetch-mode", b"no-cors\t"),
            ],
            blocked,
        ),
        (
            &[
                ("sec-fetch-site", b"same-origin"),
                ("sec-fetch-site", b"cross-site"),
                ("sec-fetch-mode", b"no-cors"),
            ],
            blocked,
        ),
        (
            &[
                ("sec-fetch-site", b"cross-site"),
                ("sec-fetch-mode", b"cors"),
            ],
            Ok(()),
        ),
        (
            &[
                ("sec-fetch-site", b"cross-site"),
                ("sec-fetch-mode", b"navigate"),
            ],
            Ok(()),
        ),
        (
            &[
                ("sec-fetch-site", b"cross-site"),
                ("sec-fetch-mode", b"websocket"),
            ],
            Ok(()),
        ),
        (
            &[
                ("sec-fetch-site", b"same-origin"),
                ("sec-fetch-mode", b"no-cors"),
            ],
            Ok(()),
        ),
        (
            &[
                ("sec-fetch-site", b"same-site"),
                ("sec-fetch-mode", b"no-cors"),
            ],
            Ok(()),
        ),
        (
            &[("sec-fetch-site", b"none"), ("sec-fetch-mode", b"no-cors")],
            Ok(()),
        ),
        (&[("sec-fetch-site", b"cross-site")], Ok(())),
        (&[("sec-fetch-mode", b"no-cors")], Ok(())),
        (
            &[
                ("sec-fetch-site", b"cross-site\xff"),
                ("sec-fetch-mode", b"no-cors"),
            ],
            Ok(()),
        ),
        (
            &[("sec-fetch-site", b"\xff"), ("sec-fetch-mode", b"\xfe")],
            Ok(()),
        ),
    ];
    for (headers, want) in cases {
        assert_eq!(
            check_sec_fetch(&parts("/app.js", headers)),
            *want,
            "{headers:?}"
        );
    }
}

#[test]
fn authority_display_and_ip() {
    assert_eq!(auth("::1", Some(8080)).to_string(), "[::1]:8080");
    assert_eq!(auth("localhost", None).to_string(), "localhost");
    assert_eq!(auth("127.0.0.1", Some(1)).to_string(), "127.0.0.1:1");
    assert!(is_ip_literal(b"[::1]"));
    assert!(!is_ip_literal(b"localhost"));
}

/// Whatever the host gate lets through is an IP literal exactly when it
/// parses as an IP address.
#[test]
fn ip_literals_are_told_apart_from_names() {
    // (authority, an IP literal?) — by hand, and by std's own parser.
    let hosts = [
        ("127.0.0.1", true),
        ("[::1]", true),
        ("[fe80::1]:80", true),
        ("10.0.0.255:8080", true),
        ("localhost", false),
        ("a.localhost", false),
        ("foo.1a", false),
        ("1a.example", false),
        ("example.com.", false),
        ("host-1.test", false),
        // The URL standard reads a trailing dot after IPv4 as part of it.
        ("1.2.3.4.", true),
        ("LOCALHOST", false),
    ];
    for (host, literal) in hosts {
        let authority = parse_authority(host.as_bytes()).expect(host);
        assert_eq!(is_ip_literal(host.as_bytes()), literal, "{host}");
        let std_says = authority.host.parse::<std::net::IpAddr>().is_ok();
        assert_eq!(std_says, literal, "{host} parsed as {:?}", authority.host);
    }
}

/// Random hostile bytes never panic and never pass the host gate with
/// anything but an allowed, well-formed host.
#[test]
fn random_inputs_never_panic() {
    let alphabet: &[u8] = b"[]:@/\\?#%.,;'\" \t0123456789abcfxlLOCAHST-_*\x80\xc3\xb4\xff";
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let p = GuardPolicy {
        allowed_hosts: vec![".example.com".into()],
        bound_host: Some("box".into()),
        allowed_origins: vec!["https://a.b".into()],
    };
    for _ in 0..20_000 {
        let len = rng.usize(0..24);
        let mut value: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.usize(0..alphabet.len())])
            .collect();
        if rng.bool() {
            let mut v = b"http://".to_vec();
            v.append(&mut value);
            value = v;
        }
        let Ok(hv) = HeaderValue::from_bytes(&value) else {
            continue;
        };
        let mut req = Request::builder()
            .uri("/")
            .header("host", hv.clone())
            .header("origin", hv.clone())
            .header("sec-fetch-site", hv.clone())
            .header("sec-fetch-mode", hv)
            .body(())
            .expect("request")
            .into_parts()
            .0;
        let _ = check_sec_fetch(&req);
        if let Ok(a) = check_host(&req, &p) {
            assert!(
                is_localhost(&a.host)
                    || a.host.parse::<std::net::IpAddr>().is_ok()
                    || a.host == "box"
                    || a.host == "example.com"
                    || a.host.ends_with(".example.com"),
                "{a:?} from {:?}",
                String::from_utf8_lossy(&value)
            );
            let _ = check_origin(&req, &a, &p);
        }
        // Also as an absolute-form target when it parses as one.
        if let Ok(uri) = http::Uri::try_from(value.as_slice()) {
            req.uri = uri;
            if let Ok(a) = check_host(&req, &p) {
                let _ = check_origin(&req, &a, &p);
            }
        }
    }
}

mod properties {
    //! Whatever the headers, the gates answer (never panic), and only
    //! loopback-style or allowed names pass the Host gate.
    use super::*;
    use proptest::prelude::*;

    fn parts_with(headers: &[(&str, Vec<u8>)]) -> Option<Parts> {
        let mut builder = http::Request::builder().uri("/");
        for (name, value) in headers {
            let value = http::HeaderValue::from_bytes(value).ok()?;
            builder = builder.header(*name, value);
        }
        builder.body(()).ok().map(|r| r.into_parts().0)
    }

    fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            "[a-z0-9.:\\[\\]@/\\\\-]{0,30}".prop_map(String::into_bytes),
            "(http|https|file|null)://[a-z0-9.]{0,12}(:[0-9]{1,6})?".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn gates_never_panic(host in header_bytes(), origin in header_bytes(), site in header_bytes(), mode in header_bytes()) {
            let policy = GuardPolicy::default();
            if let Some(parts) = parts_with(&[("host", host), ("origin", origin), ("sec-fetch-site", site), ("sec-fetch-mode", mode)]) {
                if let Ok(gated) = host_gate(&parts, &policy) {
                    let authority = gated.to_authority();
                    let parsed = authority.host.parse::<std::net::IpAddr>().is_ok();
                    let literal = matches!(gated.host, Host::Ipv4(_) | Host::Ipv6(_));
                    prop_assert_eq!(literal, parsed, "{}", authority.host);
                    let _ = check_origin(&parts, &authority, &policy);
                }
                let _ = check_sec_fetch(&parts);
            }
        }

        #[test]
        fn only_local_names_pass_the_default_host_gate(name in "[a-z]{1,10}\\.[a-z]{2,5}", port in 1u16..) {
            let policy = GuardPolicy::default();
            let parts = parts_with(&[("host", format!("{name}:{port}").into_bytes())]).expect("valid header");
            let allowed = check_host(&parts, &policy).is_ok();
            prop_assert_eq!(allowed, name.ends_with(".localhost"), "{}", name);
        }

        #[test]
        fn foreign_origins_never_pass(name in "[a-z]{1,10}\\.(com|org|net)", port in 1u16..) {
            let policy = GuardPolicy::default();
            let parts = parts_with(&[
                ("host", format!("localhost:{port}").into_bytes()),
                ("origin", format!("http://{name}:{port}").into_bytes()),
            ]).expect("valid headers");
            let authority = check_host(&parts, &policy).expect("localhost passes");
            prop_assert!(check_origin(&parts, &authority, &policy).is_err());
        }
    }
}
