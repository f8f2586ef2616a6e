//! Parameter values that name a resource (`awscli/paramfile.py`):
//! `file://path` (text), `fileb://path` (bytes) and `http(s)://url` (fetched
//! with a GET, like AWS CLI does for every parameter unless
//! `cli_follow_urlparam = false`).
//!
//! Text files are read as Python's `open(path, 'r')` does under a UTF-8
//! locale: strict UTF-8 and universal newlines (`\r\n` and `\r` become `\n`).
//! Error texts are AWS CLI's, including Python's `[Errno N] ...: 'path'`.

use std::io::Read;

use crate::py::PyValue;
use crate::py::json_decode::utf8;
use crate::py::value::str_repr;

/// `get_paramfile(value, prefixes)`: `Ok(None)` when `value` names no
/// resource; `Err` holds the `ResourceLoadingError` text. `remote` adds the
/// `http://`/`https://` prefixes (`LOCAL_PREFIX_MAP` vs the URI handler's map).
pub fn get_paramfile(value: &str, remote: bool) -> Result<Option<PyValue>, String> {
    if let Some(path) = value.strip_prefix("file://") {
        return get_file(value, path, false).map(Some);
    }
    if let Some(path) = value.strip_prefix("fileb://") {
        return get_file(value, path, true).map(Some);
    }
    if remote && (value.starts_with("http://") || value.starts_with("https://")) {
        return get_uri(value).map(|s| Some(PyValue::Str(s)));
    }
    Ok(None)
}

fn get_file(original: &str, path: &str, binary: bool) -> Result<PyValue, String> {
    let file_path = expand_user(&expand_vars(path));
    let mut data = Vec::new();
    let read = std::fs::File::open(&file_path).and_then(|mut f| f.read_to_end(&mut data));
    if let Err(e) = read {
        let mut shown = String::new();
        str_repr(&file_path, &mut shown);
        return Err(format!("Unable to load paramfile {original}: {}: {shown}", os_error(&e)));
    }
    if binary {
        return Ok(PyValue::Bytes(data));
    }
    let text = utf8(&data, "utf-8").map_err(|_| {
        format!(
            "Unable to load paramfile ({file_path}), text contents could not be decoded.  If this is a binary file, please use the fileb:// prefix instead of the file:// prefix."
        )
    })?;
    Ok(PyValue::Str(text.replace("\r\n", "\n").replace('\r', "\n")))
}

/// Python's `OSError` text before the file name: `[Errno 2] No such file or directory`.
pub(crate) fn os_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => {
            let strerror = text.split(" (os error").next().unwrap_or(&text);
            format!("[Errno {code}] {strerror}")
        }
        None => text,
    }
}

/// `os.path.expandvars`: `$NAME` and `${NAME}` replaced when set, left as is otherwise.
pub fn expand_vars(path: &str) -> String {
    if !path.contains('$') {
        return path.to_owned();
    }
    let mut out = String::new();
    let mut rest = path;
    while let Some(k) = rest.find('$') {
        out.push_str(&rest[..k]);
        let after = &rest[k + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], end)
        };
        match (consumed, std::env::var(name)) {
            (c, Ok(v)) if c > 0 && !name.is_empty() => {
                out.push_str(&v);
                rest = &after[c..];
            }
            (c, _) if c > 0 => {
                out.push('$');
                out.push_str(&after[..c]);
                rest = &after[c..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `os.path.expanduser` for `~` and `~/...` (HOME); `~user` is left as is.
pub fn expand_user(path: &str) -> String {
    if (path == "~" || path.starts_with("~/"))
        && let Ok(home) = std::env::var("HOME")
    {
        let home = if home.len() > 1 { home.trim_end_matches('/') } else { &home };
        return format!("{home}{}", &path[1..]);
    }
    path.to_owned()
}

/// `get_uri`: a GET without redirects; anything but 200 is an error.
fn get_uri(uri: &str) -> Result<String, String> {
    let fail = |why: String| format!("Unable to retrieve {uri}: {why}");
    // botocore's bare URLLib3Session: no redirects, no proxies, 60 s timeout, and
    // only Host, `Accept-Encoding: identity` and urllib3's User-Agent on the wire.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .user_agent("python-urllib3/2.7.0")
        .accept("")
        .accept_encoding("identity")
        .build()
        .into();
    let response = agent.get(uri).call().map_err(|e| match e {
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            fail(format!("Could not connect to the endpoint URL: \"{uri}\""))
        }
        ureq::Error::Timeout(_) => fail(format!("Read timeout on endpoint URL: \"{uri}\"")),
        other => fail(other.to_string()),
    })?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(fail(format!("received non 200 status code of {status}")));
    }
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut body = Vec::new();
    response.into_body().into_reader().read_to_end(&mut body).map_err(|e| fail(e.to_string()))?;
    decode_body(&body, content_type.as_deref()).map_err(fail)
}

/// `AWSResponse.text`: the charset of the Content-Type, ISO-8859-1 for `text/*`
/// without one, UTF-8 otherwise.
fn decode_body(body: &[u8], content_type: Option<&str>) -> Result<String, String> {
    let charset = content_type.and_then(|ct| {
        ct.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches(['"', '\'']).to_ascii_lowercase())
        })
    });
    let latin1 = match charset.as_deref() {
        Some("iso-8859-1" | "latin-1" | "latin1") => true,
        Some(_) => false,
        None => content_type.is_some_and(|ct| ct.contains("text")),
    };
    if latin1 { Ok(body.iter().map(|&b| b as char).collect()) } else { utf8(body, "utf-8") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, data: &[u8]) -> String {
        let dir = std::env::temp_dir().join(format!("cpjobs-paramfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn files_load_like_python() {
        let p = temp_file("a.txt", b"x\r\ny\rz\n");
        assert_eq!(get_paramfile(&format!("file://{p}"), false), Ok(Some(PyValue::str("x\ny\nz\n"))));
        assert_eq!(get_paramfile(&format!("fileb://{p}"), false), Ok(Some(PyValue::Bytes(b"x\r\ny\rz\n".to_vec()))));
        assert_eq!(get_paramfile("plain", true), Ok(None));
        assert_eq!(get_paramfile("http://x", false), Ok(None));
    }

    #[test]
    fn errors_match_aws_cli() {
        assert_eq!(
            get_paramfile("file://inputs/missing.json", false).unwrap_err(),
            "Unable to load paramfile file://inputs/missing.json: [Errno 2] No such file or directory: 'inputs/missing.json'"
        );
        let p = temp_file("bad.bin", b"\xff\xfe");
        assert_eq!(
            get_paramfile(&format!("file://{p}"), false).unwrap_err(),
            format!(
                "Unable to load paramfile ({p}), text contents could not be decoded.  If this is a binary file, please use the fileb:// prefix instead of the file:// prefix."
            )
        );
        let dir = std::env::temp_dir();
        let d = dir.to_string_lossy();
        assert_eq!(
            get_paramfile(&format!("file://{d}"), false).unwrap_err(),
            format!("Unable to load paramfile file://{d}: [Errno 21] Is a directory: '{d}'")
        );
    }

    #[test]
    fn env_vars_expand_like_posixpath() {
        // SAFETY of the test: the variable name is unique to this test.
        assert_eq!(expand_vars("$CPJOBS_SURELY_UNSET_VAR/x"), "$CPJOBS_SURELY_UNSET_VAR/x");
        assert_eq!(expand_vars("a${CPJOBS_SURELY_UNSET_VAR}b$"), "a${CPJOBS_SURELY_UNSET_VAR}b$");
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expand_vars("${HOME}/x"), format!("{home}/x"));
    }

    #[test]
    fn http_bodies_decode_by_content_type() {
        assert_eq!(decode_body(b"\xe9", Some("text/plain")), Ok("é".to_owned()));
        assert_eq!(decode_body("é".as_bytes(), Some("text/plain; charset=utf-8")), Ok("é".to_owned()));
        assert_eq!(decode_body("é".as_bytes(), None), Ok("é".to_owned()));
    }

    #[test]
    fn unreachable_urls_read_like_botocore() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/x");
        assert_eq!(
            get_paramfile(&url, true).unwrap_err(),
            format!("Unable to retrieve {url}: Could not connect to the endpoint URL: \"{url}\"")
        );
    }

    #[test]
    fn http_values_are_fetched_from_a_local_server() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for body in [("200 OK", "category=Build"), ("404 Not Found", "")] {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap();
                let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                let mut names: Vec<&str> =
                    head.lines().skip(1).filter_map(|l| l.split_once(':').map(|(k, _)| k)).collect();
                names.sort_unstable();
                assert_eq!(names, ["accept-encoding", "host", "user-agent"], "{head}");
                assert!(head.starts_with("get /ati.txt http/1.1"), "{head}");
                let resp = format!(
                    "HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    body.0,
                    body.1.len(),
                    body.1
                );
                s.write_all(resp.as_bytes()).unwrap();
            }
        });
        let url = format!("http://127.0.0.1:{port}/ati.txt");
        assert_eq!(get_paramfile(&url, true), Ok(Some(PyValue::str("category=Build"))));
        assert_eq!(
            get_paramfile(&url, true).unwrap_err(),
            format!("Unable to retrieve {url}: received non 200 status code of 404")
        );
        server.join().unwrap();
    }
}
