//! Builds the syntax tree from tokens: a Pratt (top-down operator precedence)
//! parser with the binding powers and quirks of Python's `jmespath.parser`.
//!
//! The quirks are kept on purpose, since AWS CLI accepts exactly what Python
//! accepts: function arguments and multi-select-hash pairs need no comma
//! between them (`f(a b)`), a trailing comma in a call is fine, `&` binds
//! looser than `|`, and a slice after an index (`a[0][1:]`) does not project.
//! Errors carry what Python's `ParseError`/`IncompleteExpressionError` print.

use std::sync::Arc;

use super::lexer::{Kind, LexError, TokValue, Token, tokenize};
use super::value::{Value, str_list_repr};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Lte,
    Gte,
}

/// A node of the syntax tree; one variant per node type of `jmespath.ast`.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Identity,
    Current,
    Field(String),
    Literal(Value),
    Subexpression(Vec<Node>),
    IndexExpression(Vec<Node>),
    Index(i64),
    Slice([Option<i64>; 3]),
    Projection(Box<Node>, Box<Node>),
    ValueProjection(Box<Node>, Box<Node>),
    /// left, right, condition
    FilterProjection(Box<Node>, Box<Node>, Box<Node>),
    Flatten(Box<Node>),
    Comparator(Cmp, Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Pipe(Box<Node>, Box<Node>),
    MultiSelectList(Vec<Node>),
    MultiSelectDict(Vec<(String, Node)>),
    Function(String, Vec<Node>),
    Expref(Arc<Node>),
}

/// Why an expression did not compile.
#[derive(Debug, Clone)]
pub(crate) enum ParseFailure {
    Lex(LexError),
    /// `ParseError(lex_position, token_value, token_type, msg)`.
    Parse {
        position: usize,
        value: String,
        kind: &'static str,
        msg: String,
    },
    /// `IncompleteExpressionError`.
    Incomplete,
    /// Python's `RecursionError` on deeply nested expressions.
    TooDeep,
}

impl ParseFailure {
    /// `str(e)`, with the expression attached as jmespath's `_do_parse` does.
    pub(crate) fn render(&self, expression: &str) -> String {
        match self {
            ParseFailure::Lex(e) => e.render(expression),
            ParseFailure::Parse { position, value, kind, msg } => format!(
                "{msg}: Parse error at column {position}, token \"{value}\" ({}), for expression:\n\"{expression}\"\n{}^",
                kind.to_uppercase(),
                " ".repeat(position + 1)
            ),
            ParseFailure::Incomplete => format!(
                "Invalid jmespath expression: Incomplete expression:\n\"{expression}\"\n{}^",
                " ".repeat(expression.chars().count() + 1)
            ),
            ParseFailure::TooDeep => "maximum recursion depth exceeded".into(),
        }
    }
}

type PResult<T> = Result<T, ParseFailure>;

/// Python's recursion limit: no more than this many frames may be active.
const RECURSION_LIMIT: usize = 1000;

/// Python frames already active when AWS CLI's `jmespath.compile` starts
/// `Parser._parse`'s first `_expression` (clidriver, argument resolution,
/// compile, parse, _do_parse, _parse). Calibrated against aws-cli 1.45.11: 490
/// nested parentheses compile and 491 do not; 326 nested `[` compile and 327 do not.
const BASE_FRAMES: usize = 17;

/// `_PROJECTION_STOP`: tokens binding weaker than this end a projection.
const PROJECTION_STOP: u8 = 10;

fn binding_power(kind: Kind) -> u8 {
    match kind {
        Kind::Pipe => 1,
        Kind::Or => 2,
        Kind::And => 3,
        Kind::Eq | Kind::Gt | Kind::Lt | Kind::Gte | Kind::Lte | Kind::Ne => 5,
        Kind::Flatten => 9,
        Kind::Star => 20,
        Kind::Filter => 21,
        Kind::Dot => 40,
        Kind::Not => 45,
        Kind::Lbrace => 50,
        Kind::Lbracket => 55,
        Kind::Lparen => 60,
        _ => 0,
    }
}

/// Parses a whole expression.
pub(crate) fn parse(expression: &str) -> PResult<Node> {
    let tokens = tokenize(expression).map_err(ParseFailure::Lex)?;
    let mut p = Parser { tokens, index: 0, frames: BASE_FRAMES };
    let node = p.expression(0)?;
    if p.current() != Kind::Eof {
        let t = p.token(0).clone();
        let msg = format!("Unexpected token: {}", t.value_str());
        return Err(p.error_at(&t, msg));
    }
    Ok(node)
}

/// The parser's state. `frames` mirrors the depth of Python's call stack, one
/// count per Python method (`_expression`, `_token_nud_*`, `_parse_*`...), so
/// that deep nesting fails where Python's RecursionError would strike.
struct Parser {
    tokens: Vec<Token>,
    index: usize,
    frames: usize,
}

impl Parser {
    fn current(&self) -> Kind {
        self.tokens[self.index].kind
    }

    fn lookahead(&self, n: usize) -> Kind {
        self.tokens[(self.index + n).min(self.tokens.len() - 1)].kind
    }

    fn token(&self, n: usize) -> &Token {
        &self.tokens[(self.index + n).min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) {
        self.index += 1;
    }

    fn error_at(&self, t: &Token, msg: impl Into<String>) -> ParseFailure {
        ParseFailure::Parse { position: t.start, value: t.value_str(), kind: t.kind.name(), msg: msg.into() }
    }

    fn error_here(&self, msg: impl Into<String>) -> ParseFailure {
        self.error_at(self.token(0), msg)
    }

    /// `_raise_parse_error_maybe_eof`.
    fn expecting(&self, expected: &str) -> ParseFailure {
        let t = self.token(0);
        if t.kind == Kind::Eof {
            return ParseFailure::Incomplete;
        }
        self.error_at(t, format!("Expecting: {expected}, got: {}", t.kind.name()))
    }

    fn match_kind(&mut self, kind: Kind) -> PResult<()> {
        if self.current() == kind {
            self.advance();
            Ok(())
        } else {
            Err(self.expecting(kind.name()))
        }
    }

    /// Enters `n` Python frames. Every Python parser method calls at least one
    /// helper (`_lookahead_token`, an `ast` constructor) one frame deeper, hence the `+ 1`.
    fn enter(&mut self, n: usize) -> PResult<()> {
        self.frames += n;
        if self.frames + 1 > RECURSION_LIMIT { Err(ParseFailure::TooDeep) } else { Ok(()) }
    }

    fn leave<T>(&mut self, n: usize, value: T) -> PResult<T> {
        self.frames -= n;
        Ok(value)
    }

    /// `_expression(binding_power)`.
    fn expression(&mut self, bp: u8) -> PResult<Node> {
        self.enter(1)?;
        let left_token = self.token(0).clone();
        self.advance();
        let mut left = self.nud(left_token)?;
        loop {
            let kind = self.current();
            if bp >= binding_power(kind) {
                return self.leave(1, left);
            }
            self.advance();
            left = match kind {
                Kind::Dot => self.led_dot(left)?,
                Kind::Pipe | Kind::Or | Kind::And => self.led_binary(kind, left)?,
                Kind::Lparen => self.led_lparen(left)?,
                Kind::Filter => self.led_filter(left)?,
                Kind::Eq | Kind::Ne | Kind::Gt | Kind::Gte | Kind::Lt | Kind::Lte => self.led_comparator(kind, left)?,
                Kind::Flatten => self.led_flatten(left)?,
                Kind::Lbracket => self.led_lbracket(left)?,
                // star, not, lbrace: they bind but have no led.
                _ => {
                    self.index -= 1;
                    return Err(self.error_here("invalid token"));
                }
            };
        }
    }

    fn nud(&mut self, token: Token) -> PResult<Node> {
        match token.kind {
            Kind::Literal | Kind::UnquotedIdentifier | Kind::QuotedIdentifier | Kind::Current => self.nud_leaf(token),
            Kind::Star => self.nud_star(),
            Kind::Filter => self.nud_filter(),
            Kind::Lbrace => self.nud_lbrace(),
            Kind::Lparen => self.nud_lparen(),
            Kind::Flatten => self.nud_flatten(),
            Kind::Not => self.nud_not(),
            Kind::Lbracket => self.nud_lbracket(),
            Kind::Expref => self.nud_expref(),
            Kind::Eof => Err(ParseFailure::Incomplete),
            _ => Err(self.error_at(&token, "invalid token")),
        }
    }

    fn nud_leaf(&mut self, token: Token) -> PResult<Node> {
        self.enter(1)?;
        let node = match token.kind {
            Kind::Literal => match token.value {
                TokValue::Literal(v) => Node::Literal(v),
                _ => unreachable!("literal tokens carry values"),
            },
            Kind::QuotedIdentifier if self.current() == Kind::Lparen => {
                let t = self.token(0);
                return Err(ParseFailure::Parse {
                    position: 0,
                    value: t.value_str(),
                    kind: t.kind.name(),
                    msg: "Quoted identifier not allowed for function names.".into(),
                });
            }
            Kind::Current => Node::Current,
            _ => Node::Field(token.value_str()),
        };
        self.leave(1, node)
    }

    fn nud_star(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let right = if self.current() == Kind::Rbracket {
            Node::Identity
        } else {
            self.projection_rhs(binding_power(Kind::Star))?
        };
        self.leave(1, Node::ValueProjection(Box::new(Node::Identity), Box::new(right)))
    }

    fn nud_filter(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let node = self.led_filter(Node::Identity)?;
        self.leave(1, node)
    }

    fn nud_lbrace(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let node = self.multi_select_hash()?;
        self.leave(1, node)
    }

    fn nud_lparen(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let node = self.expression(0)?;
        self.match_kind(Kind::Rparen)?;
        self.leave(1, node)
    }

    fn nud_flatten(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let left = Node::Flatten(Box::new(Node::Identity));
        let right = self.projection_rhs(binding_power(Kind::Flatten))?;
        self.leave(1, Node::Projection(Box::new(left), Box::new(right)))
    }

    fn nud_not(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let node = Node::Not(Box::new(self.expression(binding_power(Kind::Not))?));
        self.leave(1, node)
    }

    fn nud_expref(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let node = Node::Expref(Arc::new(self.expression(binding_power(Kind::Expref))?));
        self.leave(1, node)
    }

    fn nud_lbracket(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let node = if matches!(self.current(), Kind::Number | Kind::Colon) {
            let right = self.index_expression()?;
            self.project_if_slice(Node::Identity, right)?
        } else if self.current() == Kind::Star && self.lookahead(1) == Kind::Rbracket {
            self.advance();
            self.advance();
            let right = self.projection_rhs(binding_power(Kind::Star))?;
            Node::Projection(Box::new(Node::Identity), Box::new(right))
        } else {
            self.multi_select_list()?
        };
        self.leave(1, node)
    }

    fn led_dot(&mut self, left: Node) -> PResult<Node> {
        self.enter(1)?;
        let node = if self.current() != Kind::Star {
            let right = self.dot_rhs(binding_power(Kind::Dot))?;
            match left {
                Node::Subexpression(mut children) => {
                    children.push(right);
                    Node::Subexpression(children)
                }
                other => Node::Subexpression(vec![other, right]),
            }
        } else {
            self.advance();
            let right = self.projection_rhs(binding_power(Kind::Dot))?;
            Node::ValueProjection(Box::new(left), Box::new(right))
        };
        self.leave(1, node)
    }

    /// `_token_led_pipe`, `_token_led_or`, `_token_led_and`.
    fn led_binary(&mut self, kind: Kind, left: Node) -> PResult<Node> {
        self.enter(1)?;
        let right = Box::new(self.expression(binding_power(kind))?);
        let left = Box::new(left);
        let node = match kind {
            Kind::Pipe => Node::Pipe(left, right),
            Kind::Or => Node::Or(left, right),
            _ => Node::And(left, right),
        };
        self.leave(1, node)
    }

    fn led_lparen(&mut self, left: Node) -> PResult<Node> {
        self.enter(1)?;
        let Node::Field(name) = left else {
            // The token before '(' is the would-be function name.
            let t = &self.tokens[self.index - 2];
            return Err(self.error_at(t, format!("Invalid function name '{}'", t.value_str())));
        };
        let mut args = Vec::new();
        while self.current() != Kind::Rparen {
            let e = self.expression(0)?;
            if self.current() == Kind::Comma {
                self.match_kind(Kind::Comma)?;
            }
            args.push(e);
        }
        self.match_kind(Kind::Rparen)?;
        self.leave(1, Node::Function(name, args))
    }

    fn led_filter(&mut self, left: Node) -> PResult<Node> {
        self.enter(1)?;
        let condition = self.expression(0)?;
        self.match_kind(Kind::Rbracket)?;
        let right = if self.current() == Kind::Flatten {
            Node::Identity
        } else {
            self.projection_rhs(binding_power(Kind::Filter))?
        };
        self.leave(1, Node::FilterProjection(Box::new(left), Box::new(right), Box::new(condition)))
    }

    /// `_token_led_eq` and friends, through `_parse_comparator`: two frames.
    fn led_comparator(&mut self, kind: Kind, left: Node) -> PResult<Node> {
        self.enter(2)?;
        let cmp = match kind {
            Kind::Eq => Cmp::Eq,
            Kind::Ne => Cmp::Ne,
            Kind::Gt => Cmp::Gt,
            Kind::Gte => Cmp::Gte,
            Kind::Lt => Cmp::Lt,
            _ => Cmp::Lte,
        };
        let right = self.expression(binding_power(kind))?;
        self.leave(2, Node::Comparator(cmp, Box::new(left), Box::new(right)))
    }

    fn led_flatten(&mut self, left: Node) -> PResult<Node> {
        self.enter(1)?;
        let left = Node::Flatten(Box::new(left));
        let right = self.projection_rhs(binding_power(Kind::Flatten))?;
        self.leave(1, Node::Projection(Box::new(left), Box::new(right)))
    }

    fn led_lbracket(&mut self, left: Node) -> PResult<Node> {
        self.enter(1)?;
        let node = if matches!(self.current(), Kind::Number | Kind::Colon) {
            let right = self.index_expression()?;
            match left {
                Node::IndexExpression(mut children) => {
                    children.push(right);
                    Node::IndexExpression(children)
                }
                other => self.project_if_slice(other, right)?,
            }
        } else {
            self.match_kind(Kind::Star)?;
            self.match_kind(Kind::Rbracket)?;
            let right = self.projection_rhs(binding_power(Kind::Star))?;
            Node::Projection(Box::new(left), Box::new(right))
        };
        self.leave(1, node)
    }

    fn index_expression(&mut self) -> PResult<Node> {
        self.enter(1)?;
        if self.lookahead(0) == Kind::Colon || self.lookahead(1) == Kind::Colon {
            let node = self.slice_expression()?;
            return self.leave(1, node);
        }
        let n = match &self.token(0).value {
            TokValue::Number(_, n) => *n,
            _ => unreachable!("an index is a number token"),
        };
        self.advance();
        self.match_kind(Kind::Rbracket)?;
        self.leave(1, Node::Index(n))
    }

    fn slice_expression(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let mut parts = [None, None, None];
        let mut index = 0;
        while self.current() != Kind::Rbracket && index < 3 {
            match self.current() {
                Kind::Colon => {
                    index += 1;
                    if index == 3 {
                        return Err(self.error_here("syntax error"));
                    }
                    self.advance();
                }
                Kind::Number => {
                    if let TokValue::Number(_, n) = self.token(0).value {
                        parts[index] = Some(n);
                    }
                    self.advance();
                }
                _ => return Err(self.error_here("syntax error")),
            }
        }
        self.match_kind(Kind::Rbracket)?;
        self.leave(1, Node::Slice(parts))
    }

    fn project_if_slice(&mut self, left: Node, right: Node) -> PResult<Node> {
        self.enter(1)?;
        let is_slice = matches!(right, Node::Slice(_));
        let index_expr = Node::IndexExpression(vec![left, right]);
        let node = if is_slice {
            let rhs = self.projection_rhs(binding_power(Kind::Star))?;
            Node::Projection(Box::new(index_expr), Box::new(rhs))
        } else {
            index_expr
        };
        self.leave(1, node)
    }

    fn multi_select_list(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let mut items = Vec::new();
        loop {
            items.push(self.expression(0)?);
            if self.current() == Kind::Rbracket {
                break;
            }
            self.match_kind(Kind::Comma)?;
        }
        self.match_kind(Kind::Rbracket)?;
        self.leave(1, Node::MultiSelectList(items))
    }

    fn multi_select_hash(&mut self) -> PResult<Node> {
        self.enter(1)?;
        let mut pairs = Vec::new();
        loop {
            let key_token = self.token(0).clone();
            if !matches!(key_token.kind, Kind::QuotedIdentifier | Kind::UnquotedIdentifier) {
                return Err(self.expecting(&str_list_repr(&["quoted_identifier", "unquoted_identifier"])));
            }
            self.advance();
            self.match_kind(Kind::Colon)?;
            let value = self.expression(0)?;
            pairs.push((key_token.value_str(), value));
            if self.current() == Kind::Comma {
                self.match_kind(Kind::Comma)?;
            } else if self.current() == Kind::Rbrace {
                self.match_kind(Kind::Rbrace)?;
                break;
            }
        }
        self.leave(1, Node::MultiSelectDict(pairs))
    }

    /// `_parse_projection_rhs`: what follows `[*]`, `.*`, `[]`, a filter or a slice.
    fn projection_rhs(&mut self, bp: u8) -> PResult<Node> {
        self.enter(1)?;
        let kind = self.current();
        let node = if binding_power(kind) < PROJECTION_STOP {
            Node::Identity
        } else if kind == Kind::Lbracket || kind == Kind::Filter {
            self.expression(bp)?
        } else if kind == Kind::Dot {
            self.match_kind(Kind::Dot)?;
            self.dot_rhs(bp)?
        } else {
            return Err(self.error_here("syntax error"));
        };
        self.leave(1, node)
    }

    fn dot_rhs(&mut self, bp: u8) -> PResult<Node> {
        self.enter(1)?;
        let node = match self.current() {
            Kind::QuotedIdentifier | Kind::UnquotedIdentifier | Kind::Star => self.expression(bp)?,
            Kind::Lbracket => {
                self.match_kind(Kind::Lbracket)?;
                self.multi_select_list()?
            }
            Kind::Lbrace => {
                self.match_kind(Kind::Lbrace)?;
                self.multi_select_hash()?
            }
            other => {
                let allowed = str_list_repr(&["quoted_identifier", "unquoted_identifier", "lbracket", "lbrace"]);
                return Err(self.error_here(format!("Expecting: {allowed}, got: {}", other.name())));
            }
        };
        self.leave(1, node)
    }
}
