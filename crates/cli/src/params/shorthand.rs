//! AWS CLI's shorthand syntax (`awscli/shorthand.py`): `key=value,key=[a,b],key={k=v}`
//! and its model-driven post-processing (`BackCompatVisitor`).
//!
//! The grammar is reproduced with its quirks, because users see them: a value
//! stops at `,` but following items that are not `key=` make it a list
//! (`category=a,b,owner=x`), `\,` escapes a comma, quoted values take `\'`/`\"`,
//! `key@=file://x` loads a file, and leading whitespace is an error. A syntax
//! error shows the input with a caret under the failing position: AWS CLI means
//! to, but its template lacks the `f` of an f-string and prints the literal text
//! `{self._error_location()}`, a deliberate difference of cpjobs (listed in
//! tests/conformance/differences.tsv). Positions are counted in characters like Python does.

use cpjobs_model::{ServiceModel, ShapeKind};

use super::paramfile;
use super::pyops::{self, PyErr};
use crate::py::PyValue;
use crate::py::int::is_py_space;

/// Why shorthand parsing stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum ShorthandError {
    /// `ShorthandParseError`: printed after `Error parsing parameter '--x': `.
    Parse(String),
    /// Any other Python exception (a `@=` file that cannot be read, `int()` on a
    /// list, ...): printed as is.
    Plain(String),
}

/// `ShorthandParser().parse(value)` for a `str` value: a plain `dict`.
pub fn parse(value: &str) -> Result<PyValue, ShorthandError> {
    let chars: Vec<char> = value.chars().collect();
    Parser { s: &chars, i: 0, resolve_files: false, depth: 0 }.parameter()
}

/// `ShorthandParser().parse(value)` for a `bytes` value (from `fileb://`):
/// Python compares ints with a str and fails, unless the bytes are empty.
pub fn parse_bytes(value: &[u8]) -> Result<PyValue, ShorthandError> {
    if value.is_empty() {
        return Err(syntax_error("=", "EOF", &[], 0));
    }
    // AWS CLI hands the bytes to its text parser and fails with a Python TypeError
    // (`'in <string>' requires string as left operand, not int`); say what happened instead.
    Err(ShorthandError::Plain(
        "fileb:// gives bytes, but this parameter takes text: use file:// to read the file as text".into(),
    ))
}

fn syntax_error(expected: &str, actual: &str, value: &[char], index: usize) -> ShorthandError {
    ShorthandError::Parse(format!(
        "Expected: '{expected}', received: '{actual}' for input:\n{}",
        error_location(value, index)
    ))
}

/// `ShorthandParseError._error_location`: the input with a caret under `index`.
fn error_location(value: &[char], index: usize) -> String {
    let mut consumed: String = value.iter().collect();
    let mut remaining = String::new();
    let head = &value[..index.min(value.len())];
    let mut num_spaces = index;
    if let Some(nl) = head.iter().rposition(|&c| c == '\n') {
        num_spaces = index - nl - 1;
    }
    let tail = &value[index.min(value.len())..];
    if let Some(off) = tail.iter().position(|&c| c == '\n') {
        let next_newline = index + off;
        consumed = value[..next_newline].iter().collect();
        remaining = value[next_newline..].iter().collect();
    }
    format!("{consumed}\n{}^{remaining}", " ".repeat(num_spaces))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '#' | '/' | ':')
}

/// `string.whitespace`, what the parser skips between tokens.
fn is_ascii_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// `_START_WORD`: what may begin an unquoted value.
fn is_start_word(c: char) -> bool {
    matches!(c, '!' | '#'..='&' | '('..='+' | '-'..='<' | '>'..='Z' | '\\'..='z' | '|'..='\u{ffff}')
}

/// `_FIRST_FOLLOW_CHARS`: what may continue the first value of a key.
fn is_first_follow(c: char) -> bool {
    is_py_space(c) || matches!(c, '!' | '#'..='&' | '('..='+' | '-'..='\\' | '^'..='|' | '~'..='\u{ffff}')
}

/// `_SECOND_FOLLOW_CHARS`: what may continue a later value of a csv list.
fn is_second_follow(c: char) -> bool {
    is_py_space(c) || matches!(c, '!' | '#'..='&' | '('..='+' | '-'..='<' | '>'..='\u{ffff}')
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
    /// `_should_resolve_paramfiles`: one flag for the whole parser, as in AWS CLI
    /// (a nested `{...}` resets it for the rest of the enclosing value).
    resolve_files: bool,
    /// Open `[`/`{` levels: AWS CLI's recursive parser hits Python's recursion limit past ~487.
    depth: usize,
}

/// Nesting levels the Python parser survives (measured with `a=[[...]]`).
const MAX_NESTING: usize = 487;

type R<T> = Result<T, ShorthandError>;

impl Parser<'_> {
    fn current(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn at_eof(&self) -> bool {
        self.i >= self.s.len()
    }

    fn consume_whitespace(&mut self) {
        while self.current().is_some_and(is_ascii_ws) {
            self.i += 1;
        }
    }

    fn syntax(&self, expected: &str, actual: Option<char>) -> ShorthandError {
        let actual = actual.map_or_else(|| "EOF".to_owned(), |c| c.to_string());
        syntax_error(expected, &actual, self.s, self.i)
    }

    fn expect(&mut self, c: char, consume_ws: bool) -> R<()> {
        if consume_ws {
            self.consume_whitespace();
        }
        match self.current() {
            None => return Err(self.syntax(&c.to_string(), None)),
            Some(a) if a != c => return Err(self.syntax(&c.to_string(), Some(a))),
            Some(_) => self.i += 1,
        }
        if consume_ws {
            self.consume_whitespace();
        }
        Ok(())
    }

    fn parameter(&mut self) -> R<PyValue> {
        let mut params: Vec<(String, PyValue)> = Vec::new();
        let (key, val) = self.keyval()?;
        params.push((key, val));
        let mut last_index = self.i;
        while self.i < self.s.len() {
            self.expect(',', true)?;
            let (key, val) = self.keyval()?;
            if params.iter().any(|(k, _)| *k == key) {
                return Err(ShorthandError::Parse(format!(
                    "Second instance of key \"{key}\" encountered for input:\n{}\nThis is often because there is a preceding \",\" instead of a space.",
                    error_location(self.s, last_index + 1)
                )));
            }
            params.push((key, val));
            last_index = self.i;
        }
        Ok(PyValue::Dict(params))
    }

    fn at_file_marker(&mut self) -> R<()> {
        self.resolve_files = false;
        if self.expect('@', true).is_ok() {
            self.resolve_files = true;
        }
        self.expect('=', true)
    }

    fn keyval(&mut self) -> R<(String, PyValue)> {
        let key = self.key();
        self.at_file_marker()?;
        let values = self.values()?;
        Ok((key, values))
    }

    fn key(&mut self) -> String {
        let start = self.i;
        while self.current().is_some_and(is_key_char) {
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    fn values(&mut self) -> R<PyValue> {
        match self.current() {
            None => Ok(PyValue::str("")),
            Some('[') => self.nested(Self::explicit_list),
            Some('{') => self.nested(Self::hash_literal),
            Some(_) => self.csv_value(),
        }
    }

    fn csv_value(&mut self) -> R<PyValue> {
        let first = self.first_value()?;
        self.consume_whitespace();
        if self.current() != Some(',') {
            return Ok(first);
        }
        self.expect(',', true)?;
        let mut list = vec![first];
        loop {
            let step = (|| -> R<Option<PyValue>> {
                let current = self.second_value()?;
                self.consume_whitespace();
                if self.at_eof() {
                    list.push(current);
                    return Ok(None);
                }
                self.expect(',', true)?;
                Ok(Some(current))
            })();
            match step {
                Ok(Some(v)) => list.push(v),
                Ok(None) => break,
                Err(ShorthandError::Parse(e)) if e.starts_with("Expected: ") => {
                    if self.at_eof() {
                        return Err(ShorthandError::Parse(e));
                    }
                    // Backtrack to the comma before the item that turned out to be `key=`.
                    while self.s.get(self.i).is_some_and(|&c| c != ',') {
                        if self.i == 0 {
                            break;
                        }
                        self.i -= 1;
                    }
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if list.len() == 1 { Ok(list.pop().expect("one item")) } else { Ok(PyValue::List(list)) }
    }

    /// Length of `(\\,|[first])(\\,|[follow])*` at the cursor, 0 if no match.
    fn match_word(&self, follow: fn(char) -> bool) -> usize {
        let mut j = self.i;
        let mut first = true;
        loop {
            if self.s.get(j) == Some(&'\\') && self.s.get(j + 1) == Some(&',') {
                j += 2;
            } else if self.s.get(j).is_some_and(|&c| if first { is_start_word(c) } else { follow(c) }) {
                j += 1;
            } else {
                break;
            }
            first = false;
        }
        j - self.i
    }

    fn finish_word(&mut self, len: usize) -> R<PyValue> {
        let consumed: String = self.s[self.i..self.i + len].iter().collect();
        self.i += len;
        let processed = consumed.replace("\\,", ",").trim_end_matches(is_py_space).to_owned();
        self.resolve(processed)
    }

    fn resolve(&self, processed: String) -> R<PyValue> {
        if self.resolve_files {
            match paramfile::get_paramfile(&processed, false) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => return Err(ShorthandError::Plain(e)),
            }
        }
        Ok(PyValue::Str(processed))
    }

    fn value(&mut self) -> R<PyValue> {
        let len = self.match_word(is_first_follow);
        if len == 0 {
            return Ok(PyValue::str(""));
        }
        self.finish_word(len)
    }

    fn first_value(&mut self) -> R<PyValue> {
        match self.current() {
            Some('\'') => self.quoted('\''),
            Some('"') => self.quoted('"'),
            _ => self.value(),
        }
    }

    fn second_value(&mut self) -> R<PyValue> {
        match self.current() {
            Some('\'') => self.quoted('\''),
            Some('"') => self.quoted('"'),
            _ => {
                let len = self.match_word(is_second_follow);
                if len == 0 {
                    return Err(syntax_error("<second>", "<none>", self.s, self.i));
                }
                self.finish_word(len)
            }
        }
    }

    /// `'(?:\\'|[^'])*'` (or with `"`), with the regex engine's backtracking:
    /// when no closing quote follows, the last `\'` closes the value.
    fn quoted(&mut self, q: char) -> R<PyValue> {
        let mut j = self.i + 1;
        let mut last_escape = None;
        let end = loop {
            match self.s.get(j) {
                Some('\\') if self.s.get(j + 1) == Some(&q) => {
                    last_escape = Some(j);
                    j += 2;
                }
                Some(&c) if c == q => break Some(j + 1),
                Some(_) => j += 1,
                None => break last_escape.map(|e| e + 2),
            }
        };
        let Some(end) = end else {
            let name = if q == '\'' { "<singled quoted>" } else { "<double quoted>" };
            return Err(syntax_error(name, "<none>", self.s, self.i));
        };
        let inner: String = self.s[self.i + 1..end - 1].iter().collect();
        self.i = end;
        let value = inner.replace(&format!("\\{q}"), &q.to_string()).replace("\\\\", "\\");
        self.resolve(value)
    }

    fn explicit_list(&mut self) -> R<PyValue> {
        self.expect('[', true)?;
        let mut values = Vec::new();
        while self.current() != Some(']') {
            values.push(self.explicit_values()?);
            self.consume_whitespace();
            if self.current() != Some(']') {
                self.expect(',', false)?;
                self.consume_whitespace();
            }
        }
        self.expect(']', false)?;
        Ok(PyValue::List(values))
    }

    fn explicit_values(&mut self) -> R<PyValue> {
        match self.current() {
            Some('[') => self.nested(Self::explicit_list),
            Some('{') => self.nested(Self::hash_literal),
            _ => self.first_value(),
        }
    }

    fn nested(&mut self, parse: fn(&mut Self) -> R<PyValue>) -> R<PyValue> {
        if self.depth >= MAX_NESTING {
            return Err(ShorthandError::Plain("maximum recursion depth exceeded".into()));
        }
        self.depth += 1;
        let v = parse(self);
        self.depth -= 1;
        v
    }

    fn hash_literal(&mut self) -> R<PyValue> {
        self.expect('{', true)?;
        let mut entries: Vec<(String, PyValue)> = Vec::new();
        while self.current() != Some('}') {
            let key = self.key();
            self.at_file_marker()?;
            let v = self.explicit_values()?;
            self.consume_whitespace();
            if self.current() != Some('}') {
                self.expect(',', false)?;
                self.consume_whitespace();
            }
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = v,
                None => entries.push((key, v)),
            }
        }
        self.expect('}', false)?;
        Ok(PyValue::Dict(entries))
    }
}

/// `BackCompatVisitor().visit(value, shape)`: wraps scalars given for lists
/// into one-item lists and converts scalars by the model (`int()`, `float()`,
/// `true`/`false`), walking structures in model order.
pub fn back_compat(model: &ServiceModel, value: &mut PyValue, shape: &str) -> Result<(), PyErr> {
    let s = model.shape(shape);
    match s.kind {
        ShapeKind::Structure => {
            if let PyValue::Dict(entries) | PyValue::OrderedDict(entries) = value {
                for m in &s.members {
                    if let Some((_, v)) = entries.iter_mut().find(|(k, _)| *k == m.name) {
                        back_compat(model, v, &m.shape)?;
                    }
                }
            }
        }
        ShapeKind::List => match value {
            PyValue::List(items) => {
                let member = s.member.as_deref().expect("list member");
                for item in items {
                    back_compat(model, item, member)?;
                }
            }
            PyValue::None => {}
            other => *other = PyValue::List(vec![std::mem::replace(other, PyValue::None)]),
        },
        ShapeKind::Map => {
            if let PyValue::Dict(entries) | PyValue::OrderedDict(entries) = value {
                let vshape = s.value.as_deref().expect("map value");
                for (_, v) in entries {
                    back_compat(model, v, vshape)?;
                }
            }
        }
        ShapeKind::Integer | ShapeKind::Long => {
            if !matches!(value, PyValue::None) {
                *value = pyops::int(value)?;
            }
        }
        ShapeKind::Float | ShapeKind::Double => {
            if !matches!(value, PyValue::None) {
                *value = pyops::float(value)?;
            }
        }
        ShapeKind::Boolean => {
            let lowered = pyops::lower(value)?;
            match lowered.as_deref() {
                Some("true") => *value = PyValue::Bool(true),
                Some("false") => *value = PyValue::Bool(false),
                _ => {}
            }
        }
        ShapeKind::String | ShapeKind::Timestamp | ShapeKind::Blob => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        parse(input).unwrap_or_else(|e| panic!("{input:?}: {e:?}")).repr()
    }

    fn parse_err(input: &str) -> String {
        match parse(input) {
            Err(ShorthandError::Parse(m)) => m,
            other => panic!("{input:?}: {other:?}"),
        }
    }

    #[test]
    fn grammar_matches_aws_cli() {
        // Expected values from awscli.shorthand.ShorthandParser (awscli 1.45.11).
        for (input, want) in [
            (
                "category = Build , owner = ThirdParty , provider = p , version = 1 ",
                "{'category': 'Build', 'owner': 'ThirdParty', 'provider': 'p', 'version': '1'}",
            ),
            ("category='Build',owner=x", "{'category': 'Build', 'owner': 'x'}"),
            ("category=a\\,b,owner=x", "{'category': 'a,b', 'owner': 'x'}"),
            ("category=a=b,owner=x", "{'category': 'a=b', 'owner': 'x'}"),
            ("category=a,b,owner=x", "{'category': ['a', 'b'], 'owner': 'x'}"),
            ("category=Build,,owner=x", "{'category': 'Build', 'owner': 'x'}"),
            ("category=Build;owner=ThirdParty", "{'category': 'Build;owner=ThirdParty'}"),
            ("category=\"a\\\"b\",owner=x", "{'category': 'a\"b', 'owner': 'x'}"),
            ("category='a\\'b',owner=x", "{'category': \"a'b\", 'owner': 'x'}"),
            ("=x", "{'': 'x'}"),
            ("a=", "{'a': ''}"),
            ("a=[1,2,[3]],b={c=d,e=[f]}", "{'a': ['1', '2', ['3']], 'b': {'c': 'd', 'e': ['f']}}"),
            ("a={}", "{'a': {}}"),
            ("a=[]", "{'a': []}"),
            ("a='x\\'", "{'a': 'x\\\\'}"),
            ("a=b,c,d=e,f", "{'a': ['b', 'c'], 'd': ['e', 'f']}"),
            ("a=x y ,b=1", "{'a': 'x y', 'b': '1'}"),
            ("provider=file://inputs/provider.txt", "{'provider': 'file://inputs/provider.txt'}"),
            ("a@=plain", "{'a': 'plain'}"),
        ] {
            assert_eq!(ok(input), want, "{input:?}");
        }
    }

    #[test]
    fn syntax_errors_show_where_parsing_stopped() {
        // Heads from awscli.shorthand.ShorthandParser (awscli 1.45.11); the location
        // below is what its `_error_location` computes, which AWS CLI fails to print.
        for (input, head, location) in [
            (" category=Build", "Expected: '=', received: 'c'", " category=Build\n ^"),
            (
                "category=Build,owner=ThirdParty,provider=p,\nversion==1",
                "Expected: ',', received: '='",
                "category=Build,owner=ThirdParty,provider=p,\nversion==1\n        ^",
            ),
            ("category:Build", "Expected: '=', received: 'EOF'", "category:Build\n              ^"),
            ("null", "Expected: '=', received: 'EOF'", "null\n    ^"),
            ("version=1}", "Expected: ',', received: '}'", "version=1}\n         ^"),
            ("a=b,", "Expected: '<second>', received: '<none>'", "a=b,\n    ^"),
            ("a='x", "Expected: '<singled quoted>', received: '<none>'", "a='x\n  ^"),
            ("a=\"x", "Expected: '<double quoted>', received: '<none>'", "a=\"x\n  ^"),
            ("a=[1,2", "Expected: ',', received: 'EOF'", "a=[1,2\n      ^"),
            ("a={b=c", "Expected: ',', received: 'EOF'", "a={b=c\n      ^"),
            ("a=😀", "Expected: ',', received: '😀'", "a=😀\n  ^"),
            ("", "Expected: '=', received: 'EOF'", "\n^"),
        ] {
            assert_eq!(parse_err(input), format!("{head} for input:\n{location}"), "{input:?}");
        }
    }

    #[test]
    fn duplicate_keys_point_at_the_second_one() {
        assert_eq!(
            parse_err("category=Build,category=Deploy"),
            "Second instance of key \"category\" encountered for input:\ncategory=Build,category=Deploy\n               ^\nThis is often because there is a preceding \",\" instead of a space."
        );
        assert_eq!(
            parse_err("a=1,\nb=2,\nb=3\nx"),
            "Second instance of key \"b\" encountered for input:\na=1,\nb=2,\n    ^\nb=3\nx\nThis is often because there is a preceding \",\" instead of a space."
        );
    }

    #[test]
    fn deep_nesting_fails_like_python_instead_of_overflowing() {
        let nest = |n: usize| format!("a={}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&nest(487)).is_ok());
        assert_eq!(parse(&nest(488)), Err(ShorthandError::Plain("maximum recursion depth exceeded".into())));
        assert!(parse(&"a=[".repeat(50_000)).is_err());
    }

    #[test]
    fn bytes_fail_like_python() {
        assert_eq!(
            parse_bytes(b"{\"a\":1}"),
            Err(ShorthandError::Plain(
                "fileb:// gives bytes, but this parameter takes text: use file:// to read the file as text".into()
            ))
        );
        assert_eq!(
            parse_bytes(b""),
            Err(ShorthandError::Parse("Expected: '=', received: 'EOF' for input:\n\n^".into()))
        );
    }
}
