//! What a plain TCP client sees on the wire for each [`Fault`].

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Instant, SystemTime};

use tenace_tests::fault_server::{
    CLOSE_MID_CHUNK_LEN, CLOSE_MID_CHUNK_SENT, Fault, FaultServer, MALFORMED_STATUS_LINE,
    NEVER_ENDING_CHUNK, OVERLONG_LEN, OVERLONG_SENT, RESET_MID_BODY_LEN, RESET_MID_BODY_SENT,
    backlog_full_addr, closed_port_addr, filler, http_date,
};

const TIMEOUT: Duration = Duration::from_secs(2);

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

#[derive(Debug)]
struct Response {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Reads a head; returns (status line, headers, bytes read past the head).
fn read_head(stream: &mut TcpStream) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).expect("read head");
        assert_ne!(
            n,
            0,
            "EOF inside the head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let rest = buf.split_off(end + 4);
    let head = String::from_utf8(buf[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap().to_owned();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_owned(), v.to_owned())
        })
        .collect();
    (status_line, headers, rest)
}

/// Reads one response with a `Content-Length` body.
fn read_response(stream: &mut TcpStream) -> Response {
    let (status_line, headers, mut body) = read_head(stream);
    let response = Response {
        status_line,
        headers,
        body: Vec::new(),
    };
    let len: usize = response
        .header("Content-Length")
        .expect("Content-Length")
        .parse()
        .unwrap();
    let mut chunk = [0u8; 16384];
    while body.len() < len {
        let n = stream.read(&mut chunk).expect("read body");
        assert_ne!(n, 0, "EOF inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(body.len(), len, "more bytes than Content-Length");
    Response { body, ..response }
}

fn roundtrip(server: &FaultServer, request: &str) -> Response {
    let mut stream = connect(server.addr());
    stream.write_all(request.as_bytes()).unwrap();
    read_response(&mut stream)
}

/// Reads until EOF or error; returns what was read and the error, if any.
fn read_until_end(stream: &mut TcpStream) -> (Vec<u8>, Option<std::io::Error>) {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return (data, None),
            Ok(n) => data.extend_from_slice(&chunk[..n]),
            Err(e) => return (data, Some(e)),
        }
    }
}

fn assert_is_http_date(value: &str) {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    assert_eq!(value.len(), 29, "{value}");
    assert_eq!(&value[3..5], ", ", "{value}");
    assert!(value.ends_with(" GMT"), "{value}");
}

#[test]
fn ok_has_body_content_length_and_date() {
    let server = FaultServer::start([Fault::ok("hello")]);
    let response = roundtrip(&server, &get("/a?b=1"));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.header("Content-Length"), Some("5"));
    assert_eq!(response.body, b"hello");
    assert_is_http_date(response.header("Date").unwrap());
    assert_eq!(server.received(), 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/a?b=1");
    assert_eq!(requests[0].header("host"), Some("test"));
    assert_eq!(requests[0].body, b"");
    assert_eq!(requests[0].fault_index, 0);
    assert_eq!(requests[0].connection_id, 0);
    assert_eq!(server.connections(), 1);
}

#[test]
fn status_503() {
    let server = FaultServer::start([Fault::status(503)]);
    let response = roundtrip(&server, &get("/"));
    assert_eq!(response.status_line, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(response.header("Content-Length"), Some("0"));
    assert_eq!(response.body, b"");
}

#[test]
fn too_many_requests_with_retry_after_seconds() {
    let server = FaultServer::start([Fault::too_many_requests_secs(2)]);
    let response = roundtrip(&server, &get("/"));
    assert_eq!(response.status_line, "HTTP/1.1 429 Too Many Requests");
    assert_eq!(response.all("Retry-After"), ["2"]);
    assert_eq!(response.header("Content-Length"), Some("0"));
}

#[test]
fn too_many_requests_with_retry_after_date() {
    let date = http_date(SystemTime::now() + Duration::from_secs(2));
    let server = FaultServer::start([Fault::too_many_requests_date(date.clone())]);
    let response = roundtrip(&server, &get("/"));
    assert_eq!(response.status_line, "HTTP/1.1 429 Too Many Requests");
    assert_eq!(response.all("Retry-After"), [date.as_str()]);
    assert_is_http_date(response.header("Date").unwrap());
}

#[test]
fn retry_after_raw_sends_each_value_verbatim() {
    let values = ["garbage", "-5", "  7 "].map(String::from).to_vec();
    let server = FaultServer::start([Fault::retry_after_raw(503, values)]);
    let response = roundtrip(&server, &get("/"));
    assert_eq!(response.status_line, "HTTP/1.1 503 Service Unavailable");
    // The test client splits on ": ", so the leading spaces show up verbatim.
    assert_eq!(response.all("Retry-After"), ["garbage", "-5", "  7 "]);
}

#[test]
fn with_headers_sends_them_and_an_empty_date_sends_none() {
    let server = FaultServer::start([
        Fault::with_headers(429, [("RateLimit-Reset", "1"), ("X-RateLimit-Reset", "7")]),
        Fault::with_headers(429, [("Retry-After", "3"), ("Date", "")]),
        Fault::with_headers(429, [("Date", "Sun, 06 Nov 1994 08:49:37 GMT")]),
    ]);
    let limited = roundtrip(&server, &get("/"));
    assert_eq!(limited.status_line, "HTTP/1.1 429 Too Many Requests");
    assert_eq!(limited.all("RateLimit-Reset"), ["1"]);
    assert_eq!(limited.all("X-RateLimit-Reset"), ["7"]);
    assert_is_http_date(limited.header("Date").unwrap());
    let no_date = roundtrip(&server, &get("/"));
    assert_eq!(no_date.all("Retry-After"), ["3"]);
    assert!(no_date.all("Date").is_empty(), "{:?}", no_date.all("Date"));
    let fixed = roundtrip(&server, &get("/"));
    assert_eq!(fixed.all("Date"), ["Sun, 06 Nov 1994 08:49:37 GMT"]);
}

#[test]
fn status_with_custom_headers_and_body() {
    let server = FaultServer::start([Fault::Status {
        status: 418,
        headers: vec![("X-Test".to_owned(), "yes".to_owned())],
        body: b"teapot".to_vec(),
    }]);
    let response = roundtrip(&server, &get("/"));
    assert_eq!(response.status_line, "HTTP/1.1 418 Status");
    assert_eq!(response.header("X-Test"), Some("yes"));
    assert_eq!(response.header("Content-Length"), Some("6"));
    assert_eq!(response.body, b"teapot");
}

#[test]
fn reset_before_response_gives_connection_reset() {
    let server = FaultServer::start([Fault::ResetBeforeResponse]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (data, error) = read_until_end(&mut stream);
    assert_eq!(data, b"");
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    assert_eq!(server.received(), 1);
}

#[test]
fn reset_mid_body_gives_partial_body_then_reset() {
    let server = FaultServer::start([Fault::ResetMidBody]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (status_line, headers, mut body) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let content_length = RESET_MID_BODY_LEN.to_string();
    assert!(headers.contains(&("Content-Length".to_owned(), content_length)));
    let (rest, error) = read_until_end(&mut stream);
    body.extend_from_slice(&rest);
    assert_eq!(body, filler(RESET_MID_BODY_SENT));
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
}

#[test]
fn close_mid_body_gives_partial_body_then_a_clean_end() {
    let server = FaultServer::start([Fault::CloseMidBody]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (status_line, headers, mut body) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let content_length = RESET_MID_BODY_LEN.to_string();
    assert!(headers.contains(&("Content-Length".to_owned(), content_length)));
    let (rest, error) = read_until_end(&mut stream);
    body.extend_from_slice(&rest);
    assert_eq!(body, filler(RESET_MID_BODY_SENT));
    // End of stream, not a reset.
    assert!(error.is_none(), "{error:?}");
    assert_eq!(server.received(), 1);
}

#[test]
fn close_mid_chunk_gives_part_of_a_chunk_then_a_clean_end() {
    let server = FaultServer::start([Fault::CloseMidChunk]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (status_line, headers, mut body) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert!(headers.contains(&("Transfer-Encoding".to_owned(), "chunked".to_owned())));
    let (rest, error) = read_until_end(&mut stream);
    body.extend_from_slice(&rest);
    let mut want = format!("{CLOSE_MID_CHUNK_LEN:x}\r\n").into_bytes();
    want.extend_from_slice(&filler(CLOSE_MID_CHUNK_SENT));
    assert_eq!(body, want);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(server.received(), 1);
}

#[test]
fn overlong_body_sends_more_than_it_announced() {
    let server = FaultServer::start([Fault::OverlongBody]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (status_line, headers, mut body) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let content_length = OVERLONG_LEN.to_string();
    assert!(headers.contains(&("Content-Length".to_owned(), content_length)));
    let (rest, error) = read_until_end(&mut stream);
    body.extend_from_slice(&rest);
    assert_eq!(body, filler(OVERLONG_SENT));
    assert!(error.is_none(), "{error:?}");
}

#[test]
fn hang_gives_read_timeout() {
    let server = FaultServer::start([Fault::Hang]);
    let mut stream = connect(server.addr());
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    stream.write_all(get("/").as_bytes()).unwrap();
    let start = Instant::now();
    let error = stream.read(&mut [0u8; 16]).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(190));
    assert_eq!(server.received(), 1);
}

#[test]
fn slow_headers_arrive_after_the_delay() {
    let delay = Duration::from_millis(150);
    let server = FaultServer::start([Fault::SlowHeaders(delay)]);
    let mut stream = connect(server.addr());
    let start = Instant::now();
    stream.write_all(get("/").as_bytes()).unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).unwrap();
    assert!(start.elapsed() >= delay, "{:?}", start.elapsed());
    assert_eq!(&first, b"H");
    let (status_line, headers, body) = read_head(&mut stream);
    assert_eq!(status_line, "TTP/1.1 200 OK");
    assert!(headers.contains(&("Content-Length".to_owned(), "2".to_owned())));
    let mut body = body;
    while body.len() < 2 {
        let mut b = [0u8; 2];
        let n = stream.read(&mut b).unwrap();
        body.extend_from_slice(&b[..n]);
    }
    assert_eq!(body, b"ok");
}

#[test]
fn malformed_status_line_then_close() {
    let server = FaultServer::start([Fault::MalformedStatusLine]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (data, error) = read_until_end(&mut stream);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(data, MALFORMED_STATUS_LINE);
    assert_eq!(data, b"HTTP/1.1 abc Nope\r\n\r\n");
}

#[test]
fn oversize_body_has_exact_length() {
    let server = FaultServer::start([Fault::OversizeBody(100_000)]);
    let response = roundtrip(&server, &get("/"));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.header("Content-Length"), Some("100000"));
    assert_eq!(response.body.len(), 100_000);
    assert_eq!(response.body, filler(100_000));
}

#[test]
fn trickle_sends_one_byte_at_a_time() {
    let interval = Duration::from_millis(20);
    let server = FaultServer::start([Fault::Trickle {
        body_len: 3,
        interval,
    }]);
    let mut stream = connect(server.addr());
    let start = Instant::now();
    stream.write_all(get("/").as_bytes()).unwrap();
    let (status_line, headers, mut body) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert!(headers.contains(&("Content-Length".to_owned(), "3".to_owned())));
    let mut reads = 0;
    while body.len() < 3 {
        let mut b = [0u8; 16];
        let n = stream.read(&mut b).unwrap();
        assert_ne!(n, 0);
        body.extend_from_slice(&b[..n]);
        reads += 1;
    }
    assert_eq!(body, b"abc");
    assert!(start.elapsed() >= interval * 3, "{:?}", start.elapsed());
    // Bytes 20 ms apart come in separate reads (unless this thread stalls).
    assert!(reads >= 2, "{reads} reads");
}

#[test]
fn never_ending_body_keeps_sending_chunks() {
    let server = FaultServer::start([Fault::NeverEndingBody]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (status_line, headers, mut data) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert!(headers.contains(&("Transfer-Encoding".to_owned(), "chunked".to_owned())));
    assert!(!headers.iter().any(|(n, _)| n == "Content-Length"));
    let one = b"6\r\nchunk\n\r\n";
    assert_eq!(&one[3..9], NEVER_ENDING_CHUNK);
    let wanted = one.len() * 5;
    let start = Instant::now();
    while data.len() < wanted {
        let mut b = [0u8; 256];
        let n = stream.read(&mut b).unwrap();
        assert_ne!(n, 0, "the body ended");
        data.extend_from_slice(&b[..n]);
    }
    // Five chunks ~10 ms apart (the first may have come with the head).
    assert!(start.elapsed() >= Duration::from_millis(30));
    let whole = data.len() / one.len() * one.len();
    assert_eq!(data[..whole], one.repeat(whole / one.len()));
}

#[test]
fn close_before_response_gives_eof() {
    let server = FaultServer::start([Fault::CloseBeforeResponse]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/").as_bytes()).unwrap();
    let (data, error) = read_until_end(&mut stream);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(data, b"");
    assert_eq!(server.received(), 1);
}

#[test]
fn keep_alive_serves_script_in_order_on_one_connection() {
    let server = FaultServer::start([Fault::ok("first"), Fault::status(503)]);
    let mut stream = connect(server.addr());
    stream.write_all(get("/1").as_bytes()).unwrap();
    let first = read_response(&mut stream);
    stream.write_all(get("/2").as_bytes()).unwrap();
    let second = read_response(&mut stream);
    assert_eq!(first.status_line, "HTTP/1.1 200 OK");
    assert_eq!(first.body, b"first");
    assert_eq!(second.status_line, "HTTP/1.1 503 Service Unavailable");
    // Past the script: the default fallback.
    stream.write_all(get("/3").as_bytes()).unwrap();
    let third = read_response(&mut stream);
    assert_eq!(third.status_line, "HTTP/1.1 200 OK");
    assert_eq!(third.body, b"ok");
    assert_eq!(server.connections(), 1);
    let requests = server.requests();
    let seen: Vec<_> = requests
        .iter()
        .map(|r| (r.path.as_str(), r.fault_index, r.connection_id))
        .collect();
    assert_eq!(seen, [("/1", 0, 0), ("/2", 1, 0), ("/3", 2, 0)]);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = FaultServer::start([Fault::ok("one"), Fault::ok("two")]);
    let mut stream = connect(server.addr());
    let last = "GET /2 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    stream
        .write_all(format!("{}{last}", get("/1")).as_bytes())
        .unwrap();
    let (data, error) = read_until_end(&mut stream);
    assert!(error.is_none(), "{error:?}");
    let text = String::from_utf8(data).unwrap();
    let responses: Vec<&str> = text.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(responses.len(), 2, "{text}");
    assert!(responses[0].starts_with("200 OK\r\n"), "{text}");
    assert!(responses[0].ends_with("\r\n\r\none"), "{text}");
    assert!(
        responses[1].ends_with("\r\nConnection: close\r\n\r\ntwo"),
        "{text}"
    );
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/1", "/2"]);
}

#[test]
fn script_index_counts_over_all_connections() {
    let server = FaultServer::start([Fault::status(500), Fault::status(502)]);
    let a = roundtrip(&server, &get("/a"));
    let b = roundtrip(&server, &get("/b"));
    assert_eq!(a.status_line, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(b.status_line, "HTTP/1.1 502 Bad Gateway");
    assert_eq!(server.connections(), 2);
    let ids: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.fault_index, r.connection_id))
        .collect();
    assert_eq!(ids, [(0, 0), (1, 1)]);
}

#[test]
fn configurable_fallback() {
    let server = FaultServer::builder()
        .script([Fault::ok("scripted")])
        .fallback(Fault::status(503))
        .start()
        .unwrap();
    assert_eq!(roundtrip(&server, &get("/")).body, b"scripted");
    for _ in 0..2 {
        let response = roundtrip(&server, &get("/"));
        assert_eq!(response.status_line, "HTTP/1.1 503 Service Unavailable");
    }
    assert_eq!(server.received(), 3);
}

#[test]
fn post_bodies_are_recorded_and_counted() {
    let server = FaultServer::start([]);
    let mut stream = connect(server.addr());
    let post = "POST /submit HTTP/1.1\r\nHost: test\r\nContent-Length: 7\r\n\r\npayload";
    stream.write_all(post.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).body, b"ok");
    stream.write_all(get("/").as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).body, b"ok");
    let chunked = "POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n\
                   3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n";
    stream.write_all(chunked.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).body, b"ok");
    assert_eq!(server.received(), 3);
    assert_eq!(server.received_with_method("POST"), 2);
    assert_eq!(server.received_with_method("GET"), 1);
    assert_eq!(server.received_with_method("PUT"), 0);
    let requests = server.requests();
    assert_eq!(requests[0].path, "/submit");
    assert_eq!(requests[0].body, b"payload");
    assert_eq!(requests[0].header("content-length"), Some("7"));
    assert_eq!(requests[2].path, "/chunked");
    assert_eq!(requests[2].body, b"abcdefg");
}

#[test]
fn expect_continue_gets_100_before_the_body() {
    let server = FaultServer::start([Fault::ok("done")]);
    let mut stream = connect(server.addr());
    let head = "PUT /x HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let (status_line, _, rest) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 100 Continue");
    assert_eq!(rest, b"");
    stream.write_all(b"abc").unwrap();
    assert_eq!(read_response(&mut stream).body, b"done");
    assert_eq!(server.requests()[0].body, b"abc");
}

#[test]
fn head_request_gets_no_body() {
    let server = FaultServer::start([Fault::ok("hello"), Fault::ok("after")]);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"HEAD / HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let (status_line, headers, rest) = read_head(&mut stream);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert!(headers.contains(&("Content-Length".to_owned(), "5".to_owned())));
    assert_eq!(rest, b"");
    stream.write_all(get("/").as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).body, b"after");
}

#[test]
fn connection_close_is_honoured() {
    let server = FaultServer::start([]);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let response = read_response(&mut stream);
    assert_eq!(response.header("Connection"), Some("close"));
    let (data, error) = read_until_end(&mut stream);
    assert_eq!((data, error.map(|e| e.kind())), (Vec::new(), None));

    let mut stream = connect(server.addr());
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut stream).body, b"ok");
    let (data, error) = read_until_end(&mut stream);
    assert_eq!((data, error.map(|e| e.kind())), (Vec::new(), None));
}

#[test]
fn oversized_head_gets_431_and_is_not_recorded() {
    let server = FaultServer::start([]);
    let mut stream = connect(server.addr());
    let big = format!(
        "GET / HTTP/1.1\r\nHost: test\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    // The server may answer (and close) before it has read everything.
    let _ = stream.write_all(big.as_bytes());
    let response = read_response(&mut stream);
    assert_eq!(
        response.status_line,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(server.received(), 0);
}

#[test]
fn malformed_request_gets_400() {
    let server = FaultServer::start([]);
    let mut stream = connect(server.addr());
    stream.write_all(b"NONSENSE\r\n\r\n").unwrap();
    let response = read_response(&mut stream);
    assert_eq!(response.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(server.received(), 0);
}

#[test]
fn url_and_addr() {
    let server = FaultServer::start([]);
    let port = server.addr().port();
    assert_eq!(server.addr().ip().to_string(), "127.0.0.1");
    assert_ne!(port, 0);
    assert_eq!(server.url("/x"), format!("http://127.0.0.1:{port}/x"));
    assert_eq!(server.url("x"), format!("http://127.0.0.1:{port}/x"));
}

#[test]
fn closed_port_refuses() {
    let addr = closed_port_addr();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    let error = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn bind_later_on_a_refusing_port() {
    let addr = closed_port_addr();
    let error = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    let server = FaultServer::builder()
        .script([Fault::ok("now up")])
        .bind(addr)
        .start()
        .unwrap();
    assert_eq!(server.addr(), addr);
    assert_eq!(roundtrip(&server, &get("/")).body, b"now up");
}

#[test]
fn port_of_a_dropped_server_can_be_bound_again() {
    let server = FaultServer::start([]);
    let addr = server.addr();
    // The server closes first, leaving its side of the connection in TIME_WAIT.
    let mut stream = connect(addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream).body, b"ok");
    assert_eq!(read_until_end(&mut stream).0, b"");
    drop(stream);
    drop(server);
    let server = FaultServer::builder()
        .script([Fault::ok("again")])
        .bind(addr)
        .start()
        .expect("SO_REUSEADDR lets the port be bound again");
    assert_eq!(roundtrip(&server, &get("/")).body, b"again");
}

#[test]
fn dropping_the_server_stops_it() {
    let server = FaultServer::start([Fault::Hang, Fault::NeverEndingBody]);
    let addr = server.addr();
    // Two connections busy in faults that never end on their own.
    let mut hanging = connect(addr);
    hanging.write_all(get("/").as_bytes()).unwrap();
    let mut endless = connect(addr);
    endless.write_all(get("/").as_bytes()).unwrap();
    let _ = read_head(&mut endless);
    while server.received() < 2 {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Wall time on purpose: what is measured is how soon a real thread
    // closes real sockets, which no paused clock can stand in for.
    let start = Instant::now();
    drop(server);
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    let error = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    // The busy connections were closed.
    let (data, _) = read_until_end(&mut hanging);
    assert_eq!(data, b"");
    let (_, end) = read_until_end(&mut endless);
    assert!(end.is_none_or(|e| e.kind() == ErrorKind::ConnectionReset));
}

#[test]
fn backlog_full_address_makes_connect_time_out() {
    let (guard, addr) = backlog_full_addr();
    let start = Instant::now();
    let error = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(190));
    drop(guard);
}

#[test]
fn http_date_format() {
    let epoch = SystemTime::UNIX_EPOCH;
    assert_eq!(
        http_date(epoch + Duration::from_secs(784_111_777)),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    assert_is_http_date(&http_date(SystemTime::now()));
}

#[test]
fn http2_faults_get_501_in_http1() {
    let server = FaultServer::start([
        Fault::RefusedStream,
        Fault::GoAwayUnprocessed { code: 0 },
        Fault::StreamReset { code: 2 },
        Fault::StreamResetMidBody { code: 7 },
    ]);
    let bodies = [
        "RefusedStream is an HTTP/2 fault",
        "GoAwayUnprocessed { code: 0 } is an HTTP/2 fault",
        "StreamReset { code: 2 } is an HTTP/2 fault",
        "StreamResetMidBody { code: 7 } is an HTTP/2 fault",
    ];
    for body in bodies {
        let response = roundtrip(&server, &get("/"));
        assert_eq!(response.status_line, "HTTP/1.1 501 Not Implemented");
        assert_eq!(response.body, body.as_bytes());
    }
    assert_eq!((server.received(), server.streams()), (4, 4));
}
