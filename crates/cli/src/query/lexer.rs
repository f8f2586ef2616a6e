//! Splits a JMESPath expression into tokens, as Python's `jmespath.lexer` does.
//!
//! Positions are counted in characters (Python str indexes), because error
//! messages draw a caret under that column. Literal and identifier values are
//! decoded here with Python's `json.loads`, so a bad literal is a lexer error.

use super::json::{self, Objects};
use super::number::{BigInt, is_py_space};
use super::value::Value;

/// The token types, named as jmespath names them (error messages print these names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dot,
    Star,
    Rbracket,
    Comma,
    Colon,
    Current,
    Lparen,
    Rparen,
    Lbrace,
    Rbrace,
    UnquotedIdentifier,
    QuotedIdentifier,
    Flatten,
    Filter,
    Lbracket,
    Literal,
    Or,
    Pipe,
    And,
    Expref,
    Number,
    Lte,
    Lt,
    Gte,
    Gt,
    Ne,
    Not,
    Eq,
    Eof,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Dot => "dot",
            Kind::Star => "star",
            Kind::Rbracket => "rbracket",
            Kind::Comma => "comma",
            Kind::Colon => "colon",
            Kind::Current => "current",
            Kind::Lparen => "lparen",
            Kind::Rparen => "rparen",
            Kind::Lbrace => "lbrace",
            Kind::Rbrace => "rbrace",
            Kind::UnquotedIdentifier => "unquoted_identifier",
            Kind::QuotedIdentifier => "quoted_identifier",
            Kind::Flatten => "flatten",
            Kind::Filter => "filter",
            Kind::Lbracket => "lbracket",
            Kind::Literal => "literal",
            Kind::Or => "or",
            Kind::Pipe => "pipe",
            Kind::And => "and",
            Kind::Expref => "expref",
            Kind::Number => "number",
            Kind::Lte => "lte",
            Kind::Lt => "lt",
            Kind::Gte => "gte",
            Kind::Gt => "gt",
            Kind::Ne => "ne",
            Kind::Not => "not",
            Kind::Eq => "eq",
            Kind::Eof => "eof",
        }
    }
}

/// What a token carries.
#[derive(Debug, Clone)]
pub(crate) enum TokValue {
    /// Punctuation, operators, identifiers: the text (decoded, for quoted identifiers).
    Text(String),
    /// A number: Python's `int(text)`, kept as canonical text and as an index clamped to i64.
    Number(String, i64),
    /// A literal: the decoded JSON value, or the raw string.
    Literal(Value),
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) value: TokValue,
    pub(crate) start: usize,
}

impl Token {
    /// `str(token['value'])`, as parse errors print it.
    pub(crate) fn value_str(&self) -> String {
        match &self.value {
            TokValue::Text(s) => s.clone(),
            TokValue::Number(s, _) => s.clone(),
            TokValue::Literal(v) => v.py_str(),
        }
    }
}

/// Why lexing failed.
#[derive(Debug, Clone)]
pub(crate) enum LexError {
    /// `EmptyExpressionError`.
    Empty,
    /// `LexerError(lexer_position, message)`.
    Lexer { position: usize, message: String },
    /// Any other Python exception escaping the lexer, as `str(e)`.
    Other(String),
}

impl LexError {
    /// `str(e)` once the parser has attached the expression.
    pub(crate) fn render(&self, expression: &str) -> String {
        match self {
            LexError::Empty => "Invalid JMESPath expression: cannot be empty.".into(),
            LexError::Lexer { position, message } => {
                format!("Bad jmespath expression: {message}:\n{expression}\n{}^", " ".repeat(*position))
            }
            LexError::Other(msg) => msg.clone(),
        }
    }
}

fn simple(c: char) -> Option<Kind> {
    Some(match c {
        '.' => Kind::Dot,
        '*' => Kind::Star,
        ']' => Kind::Rbracket,
        ',' => Kind::Comma,
        ':' => Kind::Colon,
        '@' => Kind::Current,
        '(' => Kind::Lparen,
        ')' => Kind::Rparen,
        '{' => Kind::Lbrace,
        '}' => Kind::Rbrace,
        _ => return None,
    })
}

/// Tokenizes `expression`, ending with an `eof` token at its length.
pub(crate) fn tokenize(expression: &str) -> Result<Vec<Token>, LexError> {
    if expression.is_empty() {
        return Err(LexError::Empty);
    }
    let chars: Vec<char> = expression.chars().collect();
    let len = chars.len();
    let mut tokens = Vec::new();
    let mut pos = 0;
    let text = |kind, s: &str, start| Token { kind, value: TokValue::Text(s.to_string()), start };
    while pos < len {
        let c = chars[pos];
        let start = pos;
        if let Some(kind) = simple(c) {
            tokens.push(text(kind, &c.to_string(), start));
            pos += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            while pos < len && (chars[pos].is_ascii_alphanumeric() || chars[pos] == '_') {
                pos += 1;
            }
            let name: String = chars[start..pos].iter().collect();
            tokens.push(text(Kind::UnquotedIdentifier, &name, start));
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            pos += 1;
        } else if c == '[' {
            match chars.get(pos + 1) {
                Some(']') => {
                    tokens.push(text(Kind::Flatten, "[]", start));
                    pos += 2;
                }
                Some('?') => {
                    tokens.push(text(Kind::Filter, "[?", start));
                    pos += 2;
                }
                _ => {
                    tokens.push(text(Kind::Lbracket, "[", start));
                    pos += 1;
                }
            }
        } else if c == '\'' {
            let (lexeme, end) = consume_until(&chars, pos, '\'')?;
            pos = end;
            tokens.push(Token {
                kind: Kind::Literal,
                value: TokValue::Literal(Value::Str(lexeme.replace("\\'", "'"))),
                start,
            });
        } else if c == '`' {
            let (lexeme, end) = consume_until(&chars, pos, '`')?;
            pos = end;
            let lexeme = lexeme.replace("\\`", "`");
            let value = match json::loads(&lexeme, Objects::Dict) {
                Ok(v) => v,
                Err(e) if e.recursion => return Err(LexError::Other(e.msg)),
                Err(_) => {
                    // JEP-12's deprecated form: an invalid JSON literal is read as a JSON string.
                    let quoted = format!("\"{}\"", lexeme.trim_start_matches(is_py_space));
                    json::loads(&quoted, Objects::Dict)
                        .map_err(|_| LexError::Lexer { position: start, message: format!("Bad token {lexeme}") })?
                }
            };
            tokens.push(Token { kind: Kind::Literal, value: TokValue::Literal(value), start });
        } else if c == '"' {
            let (lexeme, end) = consume_until(&chars, pos, '"')?;
            pos = end;
            match json::loads(&format!("\"{lexeme}\""), Objects::Dict) {
                Ok(Value::Str(s)) => tokens.push(text(Kind::QuotedIdentifier, &s, start)),
                Ok(other) => unreachable!("a quoted lexeme decodes to a string, not {other:?}"),
                Err(e) => return Err(LexError::Lexer { position: start, message: e.msg }),
            }
        } else if matches!(c, '|' | '&' | '<' | '>' | '!') {
            let (second, both, single) = match c {
                '|' => ('|', Kind::Or, Kind::Pipe),
                '&' => ('&', Kind::And, Kind::Expref),
                '<' => ('=', Kind::Lte, Kind::Lt),
                '>' => ('=', Kind::Gte, Kind::Gt),
                _ => ('=', Kind::Ne, Kind::Not),
            };
            if chars.get(pos + 1) == Some(&second) {
                tokens.push(text(both, &format!("{c}{second}"), start));
                pos += 2;
            } else {
                tokens.push(text(single, &c.to_string(), start));
                pos += 1;
            }
        } else if c.is_ascii_digit() || c == '-' {
            pos += 1;
            while pos < len && chars[pos].is_ascii_digit() {
                pos += 1;
            }
            let lexeme: String = chars[start..pos].iter().collect();
            if lexeme == "-" {
                return Err(LexError::Lexer { position: start, message: "Unknown token '-'".into() });
            }
            let digits = lexeme.trim_start_matches('-').len();
            if digits > 4300 {
                return Err(LexError::Other(format!(
                    "Exceeds the limit (4300 digits) for integer string conversion: value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
                )));
            }
            let canonical = BigInt::parse(&lexeme).to_string();
            let clamped = canonical.parse::<i64>().unwrap_or(if lexeme.starts_with('-') { i64::MIN } else { i64::MAX });
            tokens.push(Token { kind: Kind::Number, value: TokValue::Number(canonical, clamped), start });
        } else if c == '=' {
            if chars.get(pos + 1) == Some(&'=') {
                tokens.push(text(Kind::Eq, "==", start));
                pos += 2;
            } else {
                return Err(LexError::Lexer { position: start, message: "Unknown token '='".into() });
            }
        } else {
            return Err(LexError::Lexer { position: start, message: format!("Unknown token {c}") });
        }
    }
    tokens.push(text(Kind::Eof, "", len));
    Ok(tokens)
}

/// Reads from the opening delimiter at `start` to the closing one; a backslash keeps
/// itself and the character after it. Returns the text between and the index after.
fn consume_until(chars: &[char], start: usize, delimiter: char) -> Result<(String, usize), LexError> {
    let mut buff = String::new();
    let mut pos = start + 1;
    loop {
        let Some(&c) = chars.get(pos) else {
            return Err(LexError::Lexer { position: start, message: format!("Unclosed {delimiter} delimiter") });
        };
        if c == delimiter {
            return Ok((buff, pos + 1));
        }
        if c == '\\' {
            buff.push('\\');
            pos += 1;
            let Some(&escaped) = chars.get(pos) else {
                return Err(LexError::Lexer { position: start, message: format!("Unclosed {delimiter} delimiter") });
            };
            buff.push(escaped);
        } else {
            buff.push(c);
        }
        pos += 1;
    }
}
