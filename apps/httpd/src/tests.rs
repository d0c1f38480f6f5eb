//! Host tests of the HTTP rules, the settings and the site loader.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use ingot_bmfs::{Bmfs, SliceDisk};

use crate::config::Config;
use crate::http::{Body, MAX_HEAD, Parsed, Response, parse};
use crate::site::Site;

fn site() -> Site {
    let mut site = Site::default();
    site.add("index.html", b"<p>hello</p>".to_vec());
    site.add("data.bin", vec![7; 5000]);
    site
}

fn complete(request: &[u8]) -> (usize, Response) {
    match parse(request, &site()) {
        Parsed::Complete { consumed, response, .. } => (consumed, response),
        other => panic!("not complete: {other:?}"),
    }
}

fn head(response: &Response) -> String {
    String::from_utf8(response.head.clone()).unwrap()
}

#[test]
fn root_serves_index_with_length_type_and_keep_alive() {
    let (consumed, response) = complete(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(consumed, 27);
    assert_eq!((response.status, response.body, response.body_len), (200, Body::File(0), 12));
    let head = head(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 12\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Type: text/html; charset=utf-8\r\n"), "{head}");
    assert!(head.contains("\r\nConnection: keep-alive\r\n") && head.ends_with("\r\n\r\n"));
    assert!(response.keep_alive);
}

#[test]
fn connection_rules_for_both_versions() {
    assert!(!complete(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").1.keep_alive);
    assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").1.keep_alive);
    assert!(complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").1.keep_alive);
    assert!(!complete(b"GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n").1.keep_alive);
}

#[test]
fn head_has_the_length_but_no_body() {
    let (_, response) = complete(b"HEAD /data.bin HTTP/1.1\r\n\r\n");
    assert_eq!((response.status, response.body, response.body_len), (200, Body::None, 0));
    assert!(head(&response).contains("Content-Length: 5000\r\n"));
    assert!(head(&response).contains("Content-Type: application/octet-stream\r\n"));
}

#[test]
fn missing_file_other_method_and_query() {
    let (_, missing) = complete(b"GET /nope.html HTTP/1.1\r\n\r\n");
    assert_eq!((missing.status, missing.body_len), (404, 14));
    assert!(missing.keep_alive);
    let (_, post) = complete(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(post.status, 405);
    assert!(head(&post).contains("Allow: GET, HEAD\r\n"));
    assert!(post.keep_alive, "no body, so the connection may stay");
    // A body is not read: the connection closes so its bytes are not taken for a request.
    for with_body in [
        &b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"[..],
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ] {
        let (_, response) = complete(with_body);
        assert!(!response.keep_alive, "{}", head(&response));
        assert!(head(&response).contains("Connection: close\r\n"));
    }
    let (_, query) = complete(b"GET /index.html?x=1 HTTP/1.1\r\n\r\n");
    assert_eq!(query.status, 200);
}

#[test]
fn malformed_requests_are_refused_and_close() {
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ] {
        match parse(bad, &site()) {
            Parsed::Refused { response, .. } => {
                assert_eq!(response.status, 400);
                assert!(!response.keep_alive);
                assert_eq!(response.body, Body::Text("400 Bad Request\n"));
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn over_long_target_and_headers() {
    let mut long_target = b"GET /".to_vec();
    long_target.resize(MAX_HEAD, b'a');
    assert!(
        matches!(parse(&long_target, &site()), Parsed::Refused { response, .. } if response.status == 414)
    );
    let mut long_headers = b"GET / HTTP/1.1\r\n".to_vec();
    while long_headers.len() < MAX_HEAD {
        long_headers.extend_from_slice(b"X-Filler: 0123456789\r\n");
    }
    assert!(
        matches!(parse(&long_headers, &site()), Parsed::Refused { response, .. } if response.status == 431)
    );
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..40 {
        many.extend_from_slice(b"A: b\r\n");
    }
    many.extend_from_slice(b"\r\n");
    assert!(
        matches!(parse(&many, &site()), Parsed::Refused { response, .. } if response.status == 431)
    );
}

#[test]
fn partial_and_pipelined_requests() {
    assert_eq!(parse(b"GET / HTTP/1.1\r\nHost:", &site()), Parsed::Partial);
    let two = b"GET / HTTP/1.1\r\n\r\nGET /data.bin HTTP/1.1\r\n\r\n";
    let (consumed, first) = complete(two);
    assert_eq!((consumed, first.body), (18, Body::File(0)));
    let (_, second) = complete(&two[consumed..]);
    assert_eq!(second.body, Body::File(1));
}

#[test]
fn config_overrides_and_reports_bad_lines() {
    let (config, problems) = Config::parse(
        "# bench\nlog=off\naddress=10.0.3.2/24\ngateway=10.0.3.1\nport=8080\nquit-port=9\nbogus=1\nport=0\nsockets\n",
    );
    assert!(!config.log);
    assert_eq!((config.port, config.quit_port), (8080, 9));
    let ipv4 = config.ipv4.unwrap();
    assert_eq!(ipv4.address.prefix_len(), 24);
    assert_eq!(ipv4.gateway.map(|g| g.octets()), Some([10, 0, 3, 1]));
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(Config::parse("").0, Config::default());
    assert_eq!(Config::parse("").0.nics, vec![0]);
    let (two, problems) = Config::parse("nic=0, 1\n");
    assert_eq!((two.nics, problems.len()), (vec![0, 1], 0));
    for bad in ["nic=\n", "nic=0,0\n", "nic=0,x\n"] {
        let (config, problems) = Config::parse(bad);
        assert_eq!((config.nics, problems.len()), (vec![0], 1), "{bad}");
    }
    // A fixed address names one interface: with two, both use DHCP and it is said.
    let (both, problems) = Config::parse("nic=0,1\naddress=10.0.3.2/24\n");
    assert_eq!((both.ipv4, problems.len()), (None, 1), "{problems:?}");
    assert!(!Config::default().poll, "halting between rounds is the default");
    assert!(Config::parse("poll=on\n").0.poll);
    let (config, problems) = Config::parse("poll=sometimes\n");
    assert!(!config.poll);
    assert_eq!(problems, ["line 1: bad value for poll: `sometimes`"]);
}

#[test]
fn site_from_a_bmfs_disk() {
    let mut bytes = vec![0u8; 16 << 20];
    let mut fs = Bmfs::format(SliceDisk::new(&mut bytes)).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    fs.write("index.html", b"<h1>disk</h1>").unwrap();
    fs.write("big.bin", &big).unwrap();
    fs.write("httpd.cfg", b"log=off\n").unwrap();
    let site = Site::from_bmfs(SliceDisk::new(&mut bytes)).unwrap();
    assert_eq!(site.len(), 2);
    assert_eq!(site.file(site.find("index.html").unwrap()), b"<h1>disk</h1>");
    assert_eq!(site.file(site.find("big.bin").unwrap()), &big[..]);
    assert_eq!(site.config.as_deref(), Some("log=off\n"));
    let mut blank = vec![0u8; 4 << 20];
    assert!(Site::from_bmfs(SliceDisk::new(&mut blank)).is_err());
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Checks what the server would send for `request`: a well-formed head whose
/// `Content-Length` matches the body it carries.
fn check_answer(request: &[u8], consumed: usize, response: &Response, site: &Site) {
    assert!(consumed <= request.len(), "consumed {consumed} of {}", request.len());
    let head = String::from_utf8(response.head.clone()).expect("the head is text");
    assert!(head.starts_with("HTTP/1."), "{head:?} for {request:?}");
    assert!(head.ends_with("\r\n\r\n"), "{head:?}");
    // HEAD answers carry the length a GET would get and no body.
    if response.body != Body::None {
        assert!(
            head.contains(&format!("\r\nContent-Length: {}\r\n", response.body_len)),
            "{head:?} body_len {}",
            response.body_len
        );
    } else {
        assert!(head.contains("\r\nContent-Length: ") && response.body_len == 0, "{head:?}");
    }
    let status: u16 = head[9..12].parse().expect("a status code");
    assert_eq!(status, response.status);
    let body_len = match response.body {
        Body::None => 0,
        Body::File(index) => site.file(index).len(),
        Body::Text(text) => text.len(),
    };
    if response.body != Body::None {
        assert_eq!(body_len, response.body_len, "{head:?}");
    }
}

#[test]
fn mutated_requests_always_get_a_well_formed_answer_or_wait() {
    let site = site();
    let seeds: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HEAD /data.bin HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"GET /missing.html?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
        b"POST /index.html HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    ];
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let (mut complete, mut refused, mut partial) = (0, 0, 0);
    for round in 0..20_000 {
        let mut request = seeds[round % seeds.len()].to_vec();
        for _ in 0..1 + random.below(4) {
            let at = random.below(request.len());
            match random.below(6) {
                0 => request[at] = random.next() as u8,
                1 => request[at] ^= 1 << random.below(8),
                2 => request.truncate(at),
                3 => request.insert(at, [b'\r', b'\n', b' ', b':', 0, 0xff][random.below(6)]),
                4 => {
                    request.remove(at);
                }
                _ => {
                    let filler =
                        (0..random.below(3 * MAX_HEAD)).map(|_| b'a' + random.below(26) as u8);
                    request.splice(at..at, filler);
                }
            }
            if request.is_empty() {
                request.push(b'G');
            }
        }
        match parse(&request, &site) {
            Parsed::Complete { consumed, response, .. } => {
                complete += 1;
                check_answer(&request, consumed, &response, &site);
            }
            Parsed::Refused { response, .. } => {
                refused += 1;
                check_answer(&request, request.len(), &response, &site);
                assert!(matches!(response.status, 400 | 414 | 431), "{}", response.status);
                assert!(!response.keep_alive, "a refused request must close");
            }
            Parsed::Partial => {
                partial += 1;
                assert!(request.len() < MAX_HEAD, "a head of {} bytes left waiting", request.len());
            }
        }
    }
    // Every outcome was reached, so the mutations reach every path.
    assert!(complete > 500 && refused > 500 && partial > 500, "{complete} {refused} {partial}");
}
