//! INI files read the way botocore reads `~/.aws/config` and `~/.aws/credentials`:
//! Python's `configparser.RawConfigParser` (strict), then botocore's
//! one level of nested values (`s3 =\n  addressing_style = path`).
//!
//! Invariant: a file Python refuses (missing section header, duplicate
//! section or option, a line that is neither, invalid UTF-8) is refused here
//! too, because AWS CLI then dies with `ConfigParseError` and so must we.
//! Section names keep their case; option names are lowercased (`optionxform`).

/// A value: a plain string, or a nested block (a value that starts with a newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniValue {
    /// `key = value`
    Str(String),
    /// `key =` followed by indented `sub = value` lines, in file order.
    Nested(Vec<(String, String)>),
}

impl IniValue {
    /// The plain string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            IniValue::Str(s) => Some(s),
            IniValue::Nested(_) => None,
        }
    }
}

/// One section: options in file order (later `[DEFAULT]` keys appended).
pub type Section = Vec<(String, IniValue)>;

/// A parsed file: sections in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    /// `(section name, options)`.
    pub sections: Vec<(String, Section)>,
}

impl Ini {
    /// The section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }
}

/// A section while reading: each option's raw lines.
type RawSection = Vec<(String, Vec<String>)>;

/// Looks up `key` in a section.
pub fn get<'a>(section: &'a Section, key: &str) -> Option<&'a IniValue> {
    section.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Why a file could not be parsed (only used in tests and `--debug`; AWS CLI's
/// message names just the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniError(pub String);

/// Parses file bytes like `RawConfigParser().read()` followed by botocore's
/// `raw_config_parse(parse_subsections=True)`.
pub fn parse(bytes: &[u8]) -> Result<Ini, IniError> {
    let text = std::str::from_utf8(bytes).map_err(|e| IniError(format!("not UTF-8: {e}")))?;
    // Each option's raw lines (None = valueless, which RawConfigParser refuses by default).
    let mut sections: Vec<(String, RawSection)> = Vec::new();
    let mut defaults: Vec<(String, Vec<String>)> = Vec::new();
    // Index of the current section; usize::MAX = [DEFAULT].
    let mut cur: Option<usize> = None;
    let mut optname: Option<String> = None;
    let mut indent_level = 0usize;
    let mut added_sections: Vec<String> = Vec::new();
    let mut added_options: Vec<(String, String)> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut sectname = String::new();

    // Python iterates lines keeping their endings; `splitlines` semantics for \n, \r\n, \r.
    for (idx, line) in split_lines(text).into_iter().enumerate() {
        let lineno = idx + 1;
        let stripped = py_strip(line);
        // Full-line comments only: RawConfigParser has no inline comment prefixes.
        let is_comment = stripped.starts_with('#') || stripped.starts_with(';');
        let value = if is_comment { "" } else { stripped };
        if value.is_empty() {
            // empty_lines_in_values=True: a blank (not comment) line joins the current value.
            if !is_comment
                && cur.is_some()
                && let Some(name) = &optname
                && let Some(lines) = option_lines(&mut sections, &mut defaults, cur, name)
            {
                lines.push(String::new());
            }
            continue;
        }
        let cur_indent = line.chars().take_while(|c| c.is_whitespace()).count();
        if cur.is_some() && optname.is_some() && cur_indent > indent_level {
            let name = optname.clone().unwrap_or_default();
            if let Some(lines) = option_lines(&mut sections, &mut defaults, cur, &name) {
                lines.push(value.to_owned());
            }
            continue;
        }
        indent_level = cur_indent;
        if let Some(header) = section_header(value) {
            sectname = header.to_owned();
            if let Some(pos) = sections.iter().position(|(n, _)| n == header) {
                if added_sections.iter().any(|s| s == header) {
                    return Err(IniError(format!("section {header:?} at line {lineno}: already exists")));
                }
                cur = Some(pos);
                added_sections.push(header.to_owned());
            } else if header == "DEFAULT" {
                cur = Some(usize::MAX);
            } else {
                sections.push((header.to_owned(), Vec::new()));
                cur = Some(sections.len() - 1);
                added_sections.push(header.to_owned());
            }
            optname = None;
        } else if cur.is_none() {
            return Err(IniError(format!("file contains no section headers (line {lineno})")));
        } else if let Some((name, val)) = option_line(value) {
            if name.is_empty() {
                errors.push(format!("line {lineno}"));
                optname = None;
                continue;
            }
            let name = name.to_lowercase();
            if added_options.iter().any(|(s, o)| *s == sectname && *o == name) {
                return Err(IniError(format!(
                    "option {name:?} in section {sectname:?} at line {lineno}: already exists"
                )));
            }
            added_options.push((sectname.clone(), name.clone()));
            let target = if cur == Some(usize::MAX) { &mut defaults } else { &mut sections[cur.unwrap_or(0)].1 };
            match target.iter_mut().find(|(k, _)| *k == name) {
                Some((_, lines)) => *lines = vec![val.to_owned()],
                None => target.push((name.clone(), vec![val.to_owned()])),
            }
            optname = Some(name);
        } else {
            // A non-fatal ParsingError in Python, raised at the end of the file.
            errors.push(format!("line {lineno}"));
        }
    }
    if !errors.is_empty() {
        return Err(IniError(format!("source contains parsing errors: {}", errors.join(", "))));
    }

    let join = |lines: &[String]| -> Result<IniValue, IniError> {
        let joined = lines.join("\n");
        let value = py_rstrip(&joined).to_owned();
        if value.starts_with('\n') { parse_nested(&value).map(IniValue::Nested) } else { Ok(IniValue::Str(value)) }
    };
    let mut out = Ini::default();
    for (name, opts) in &sections {
        let mut section = Section::new();
        for (k, lines) in opts {
            section.push((k.clone(), join(lines)?));
        }
        // [DEFAULT] values show through in every section (cp.options() includes them).
        for (k, lines) in &defaults {
            if !section.iter().any(|(sk, _)| sk == k) {
                section.push((k.clone(), join(lines)?));
            }
        }
        out.sections.push((name.clone(), section));
    }
    Ok(out)
}

fn option_lines<'a>(
    sections: &'a mut [(String, RawSection)],
    defaults: &'a mut Vec<(String, Vec<String>)>,
    cur: Option<usize>,
    name: &str,
) -> Option<&'a mut Vec<String>> {
    let target = match cur? {
        usize::MAX => defaults,
        i => &mut sections.get_mut(i)?.1,
    };
    target.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// `SECTCRE = r"\[(?P<header>.+)\]"` with `re.match`: anchored at the start only,
/// the header runs to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    let header = &rest[..end];
    // `.+` does not match newlines and needs one character.
    if header.is_empty() { None } else { Some(header) }
}

/// `OPTCRE = r"(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$"`: the option ends at the first `=` or `:`.
fn option_line(value: &str) -> Option<(&str, &str)> {
    let pos = value.find(['=', ':'])?;
    let name = py_rstrip(&value[..pos]);
    let val = py_strip(&value[pos + 1..]);
    Some((name, val))
}

/// botocore's `_parse_nested`: each non-blank line is `key = value`, else the file is refused.
fn parse_nested(value: &str) -> Result<Vec<(String, String)>, IniError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in value.lines() {
        let line = py_strip(line);
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| IniError(format!("nested value without '=': {line:?}")))?;
        let (k, v) = (py_strip(k).to_owned(), py_strip(v).to_owned());
        match out.iter_mut().find(|(ok, _)| *ok == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    Ok(out)
}

/// Lines as Python's text-mode file iteration yields them (universal newlines).
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Python's `str.strip()` (Unicode whitespace).
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IniValue {
        IniValue::Str(v.to_owned())
    }

    #[test]
    fn sections_options_and_case() {
        let ini = parse(
            b"[default]\nRegion = us-east-1\noutput: text\n\n[profile dev]\n# comment\n; other\nregion=eu-west-1\n",
        )
        .unwrap();
        assert_eq!(ini.sections.len(), 2);
        let d = ini.section("default").unwrap();
        assert_eq!(get(d, "region"), Some(&s("us-east-1")));
        assert_eq!(get(d, "output"), Some(&s("text")));
        assert_eq!(get(ini.section("profile dev").unwrap(), "region"), Some(&s("eu-west-1")));
    }

    #[test]
    fn value_runs_to_end_and_first_delimiter_wins() {
        let ini = parse(b"[a]\nk = v # not a comment\nx:y = z\n").unwrap();
        let a = ini.section("a").unwrap();
        assert_eq!(get(a, "k"), Some(&s("v # not a comment")));
        assert_eq!(get(a, "x"), Some(&s("y = z")));
    }

    #[test]
    fn nested_values() {
        let ini =
            parse(b"[default]\ns3 =\n  addressing_style = path\n  signature_version = s3v4\nregion = x\n").unwrap();
        let d = ini.section("default").unwrap();
        assert_eq!(
            get(d, "s3"),
            Some(&IniValue::Nested(vec![
                ("addressing_style".into(), "path".into()),
                ("signature_version".into(), "s3v4".into())
            ]))
        );
        assert_eq!(get(d, "region"), Some(&s("x")));
        assert!(parse(b"[default]\ns3 =\n  novalue\n").is_err());
    }

    #[test]
    fn continuation_lines_join() {
        let ini = parse(b"[a]\nk = one\n  two\n\n  three\n").unwrap();
        assert_eq!(get(ini.section("a").unwrap(), "k"), Some(&s("one\ntwo\n\nthree")));
    }

    #[test]
    fn refused_files() {
        assert!(parse(b"[default\nregion = us-east-1\n").is_err(), "missing header");
        assert!(parse(b"region = us-east-1\n").is_err(), "option before any section");
        assert!(parse(b"[a]\n[a]\n").is_err(), "duplicate section");
        assert!(parse(b"[a]\nk=1\nK=2\n").is_err(), "duplicate option (case-insensitive)");
        assert!(parse(b"[a]\njustaword\n").is_err(), "line without delimiter");
        assert!(parse(b"[a]\nk=\xff\n").is_err(), "not UTF-8");
        assert!(parse(b"[a]\n=v\n").is_err(), "empty option name");
    }

    #[test]
    fn default_section_shows_through() {
        let ini = parse(b"[DEFAULT]\nregion = r\n[profile x]\noutput = json\n").unwrap();
        assert!(ini.section("DEFAULT").is_none());
        assert_eq!(get(ini.section("profile x").unwrap(), "region"), Some(&s("r")));
    }

    #[test]
    fn header_runs_to_last_bracket_and_crlf() {
        let ini = parse(b"[profile a] ]\r\nk = v\r\n").unwrap();
        assert_eq!(ini.sections[0].0, "profile a] ");
        assert_eq!(get(&ini.sections[0].1, "k"), Some(&s("v")));
    }
}
