//! HTTP/1.0 and 1.1 requests to responses: parsing with `httparse`, the status for
//! every kind of bad request, and the response head (`Content-Length`,
//! `Content-Type` by extension, `Connection`). No I/O here: [`crate::server`] moves
//! the bytes.

use alloc::format;
use alloc::vec::Vec;

use crate::site::Site;

/// Longest request head accepted (request line plus headers); longer gets 414 or 431.
pub const MAX_HEAD: usize = 8192;
/// Most headers accepted; more gets 431.
pub const MAX_HEADERS: usize = 32;

/// What the response carries after its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Nothing (HEAD, or an error with no body).
    None,
    /// File `index` of the site.
    File(usize),
    /// A fixed text (error pages).
    Text(&'static str),
}

/// A response ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The head: status line, headers, blank line.
    pub head: Vec<u8>,
    /// The body.
    pub body: Body,
    /// Bytes of the body (what `Content-Length` says).
    pub body_len: usize,
    /// Whether the connection stays open afterwards.
    pub keep_alive: bool,
}

/// One parsed request, for the access log.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RequestLine {
    /// The method (cut to 16 bytes).
    pub method: heapless_str::Short,
    /// The target (cut to 64 bytes).
    pub target: heapless_str::Short,
}

/// Small strings for the log without allocation.
pub mod heapless_str {
    /// Up to 64 bytes of text.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Short {
        bytes: [u8; 64],
        len: usize,
    }

    impl Default for Short {
        fn default() -> Self {
            Self { bytes: [0; 64], len: 0 }
        }
    }

    impl Short {
        /// `text`, cut to 64 bytes at a character boundary.
        pub fn new(text: &str) -> Self {
            let mut len = text.len().min(64);
            while !text.is_char_boundary(len) {
                len -= 1;
            }
            let mut bytes = [0; 64];
            bytes[..len].copy_from_slice(&text.as_bytes()[..len]);
            Self { bytes, len }
        }

        /// The text.
        pub fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("?")
        }
    }
}

/// What [`parse`] found in the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet; read more.
    Partial,
    /// A complete request head of `consumed` bytes, answered by the response.
    Complete {
        /// Bytes of the head (a pipelined next request may follow).
        consumed: usize,
        /// Method and target, for the log.
        request: RequestLine,
        /// The answer.
        response: Response,
    },
    /// A request that cannot be answered normally: respond and close.
    Refused {
        /// What could be read of the method, for the log.
        request: RequestLine,
        /// The error response (the connection closes after it).
        response: Response,
    },
}

/// Parses the bytes received so far on a connection and decides the response.
pub fn parse(bytes: &[u8], site: &Site) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(consumed)) => {
            let line = RequestLine {
                method: heapless_str::Short::new(request.method.unwrap_or("")),
                target: heapless_str::Short::new(request.path.unwrap_or("")),
            };
            let response = answer(&request, site);
            Parsed::Complete { consumed, request: line, response }
        }
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_HEAD => {
            // Still no end of the request line: the target is too long; else the headers.
            let status = if bytes.windows(2).any(|w| w == b"\r\n") { 431 } else { 414 };
            refused(bytes, status)
        }
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => refused(bytes, 431),
        Err(_) => refused(bytes, 400),
    }
}

fn refused(bytes: &[u8], status: u16) -> Parsed {
    let first = bytes.split(|&b| b == b' ' || b == b'\r').next().unwrap_or(&[]);
    let method = core::str::from_utf8(first).unwrap_or("?");
    Parsed::Refused {
        request: RequestLine {
            method: heapless_str::Short::new(method),
            target: heapless_str::Short::new(""),
        },
        response: error(status, false, false),
    }
}

/// The response to a well-formed request.
fn answer(request: &httparse::Request<'_, '_>, site: &Site) -> Response {
    let version = request.version.unwrap_or(0);
    let connection =
        request.headers.iter().find(|h| h.name.eq_ignore_ascii_case("connection")).map(|h| h.value);
    let has = |word: &str| {
        connection.is_some_and(|value| {
            value
                .split(|&b| b == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(word.as_bytes()))
        })
    };
    // This server reads no request bodies: after a request that has one, the body's
    // bytes would be taken for the next request, so such a connection is closed.
    let header = |name: &str| request.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name));
    let has_body = header("transfer-encoding").is_some()
        || header("content-length").is_some_and(|h| h.value.trim_ascii() != b"0");
    let keep_alive = !has_body && if version == 1 { !has("close") } else { has("keep-alive") };
    let method = request.method.unwrap_or("");
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return error(405, head_only, keep_alive);
    }
    let path = request.path.unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let Some(name) = path.strip_prefix('/') else {
        return error(400, head_only, false);
    };
    let name = if name.is_empty() { "index.html" } else { name };
    match site.find(name) {
        Some(index) => {
            let length = site.file(index).len();
            let head = format!(
                "HTTP/1.1 200 OK\r\nServer: ingot-httpd\r\nContent-Type: {}\r\nContent-Length: {length}\r\nConnection: {}\r\n\r\n",
                content_type(name),
                if keep_alive { "keep-alive" } else { "close" }
            );
            Response {
                status: 200,
                head: head.into_bytes(),
                body: if head_only { Body::None } else { Body::File(index) },
                body_len: if head_only { 0 } else { length },
                keep_alive,
            }
        }
        None => error(404, head_only, keep_alive),
    }
}

/// An error response with a short text body.
pub fn error(status: u16, head_only: bool, keep_alive: bool) -> Response {
    let (reason, text) = match status {
        400 => ("Bad Request", "400 Bad Request\n"),
        404 => ("Not Found", "404 Not Found\n"),
        405 => ("Method Not Allowed", "405 Method Not Allowed\n"),
        408 => ("Request Timeout", "408 Request Timeout\n"),
        414 => ("URI Too Long", "414 URI Too Long\n"),
        431 => ("Request Header Fields Too Large", "431 Request Header Fields Too Large\n"),
        _ => ("Internal Server Error", "500 Internal Server Error\n"),
    };
    let allow = if status == 405 { "Allow: GET, HEAD\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: ingot-httpd\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{allow}Connection: {}\r\n\r\n",
        text.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    Response {
        status,
        head: head.into_bytes(),
        body: if head_only { Body::None } else { Body::Text(text) },
        body_len: if head_only { 0 } else { text.len() },
        keep_alive,
    }
}

/// `Content-Type` by file extension.
const TYPES: [(&str, &str); 14] = [
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("txt", "text/plain; charset=utf-8"),
    ("css", "text/css"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("svg", "image/svg+xml"),
    ("ico", "image/x-icon"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
];

/// The `Content-Type` for a file name, by its extension (any case).
pub fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    TYPES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(extension))
        .map_or("application/octet-stream", |&(_, kind)| kind)
}
