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

/// Python's recursion limit is 1000 frames and each nesting level costs about two;
/// past this depth Python gives up with a RecursionError, and so do we.
const MAX_DEPTH: usize = 480;

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
    let mut p = Parser { tokens, index: 0, depth: 0 };
    let node = p.expression(0)?;
    if p.current() != Kind::Eof {
        let t = p.token(0).clone();
        let msg = format!("Unexpected token: {}", t.value_str());
        return Err(p.error_at(&t, msg));
    }
    Ok(node)
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    depth: usize,
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

    fn expression(&mut self, bp: u8) -> PResult<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseFailure::TooDeep);
        }
        let r = self.expression_inner(bp);
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, bp: u8) -> PResult<Node> {
        let left_token = self.token(0).clone();
        self.advance();
        let mut left = self.nud(left_token)?;
        loop {
            let kind = self.current();
            if bp >= binding_power(kind) {
                return Ok(left);
            }
            if !matches!(
                kind,
                Kind::Dot
                    | Kind::Pipe
                    | Kind::Or
                    | Kind::And
                    | Kind::Lparen
                    | Kind::Filter
                    | Kind::Eq
                    | Kind::Ne
                    | Kind::Gt
                    | Kind::Gte
                    | Kind::Lt
                    | Kind::Lte
                    | Kind::Flatten
                    | Kind::Lbracket
            ) {
                return Err(self.error_here("invalid token"));
            }
            self.advance();
            left = self.led(kind, left)?;
        }
    }

    fn nud(&mut self, token: Token) -> PResult<Node> {
        match token.kind {
            Kind::Literal => match token.value {
                TokValue::Literal(v) => Ok(Node::Literal(v)),
                _ => unreachable!("literal tokens carry values"),
            },
            Kind::UnquotedIdentifier => Ok(Node::Field(token.value_str())),
            Kind::QuotedIdentifier => {
                if self.current() == Kind::Lparen {
                    let t = self.token(0);
                    return Err(ParseFailure::Parse {
                        position: 0,
                        value: t.value_str(),
                        kind: t.kind.name(),
                        msg: "Quoted identifier not allowed for function names.".into(),
                    });
                }
                Ok(Node::Field(token.value_str()))
            }
            Kind::Star => {
                let right = if self.current() == Kind::Rbracket {
                    Node::Identity
                } else {
                    self.projection_rhs(binding_power(Kind::Star))?
                };
                Ok(Node::ValueProjection(Box::new(Node::Identity), Box::new(right)))
            }
            Kind::Filter => self.led_filter(Node::Identity),
            Kind::Lbrace => self.multi_select_hash(),
            Kind::Lparen => {
                let e = self.expression(0)?;
                self.match_kind(Kind::Rparen)?;
                Ok(e)
            }
            Kind::Flatten => {
                let left = Node::Flatten(Box::new(Node::Identity));
                let right = self.projection_rhs(binding_power(Kind::Flatten))?;
                Ok(Node::Projection(Box::new(left), Box::new(right)))
            }
            Kind::Not => Ok(Node::Not(Box::new(self.expression(binding_power(Kind::Not))?))),
            Kind::Lbracket => {
                if matches!(self.current(), Kind::Number | Kind::Colon) {
                    let right = self.index_expression()?;
                    self.project_if_slice(Node::Identity, right)
                } else if self.current() == Kind::Star && self.lookahead(1) == Kind::Rbracket {
                    self.advance();
                    self.advance();
                    let right = self.projection_rhs(binding_power(Kind::Star))?;
                    Ok(Node::Projection(Box::new(Node::Identity), Box::new(right)))
                } else {
                    self.multi_select_list()
                }
            }
            Kind::Current => Ok(Node::Current),
            Kind::Expref => Ok(Node::Expref(Arc::new(self.expression(binding_power(Kind::Expref))?))),
            Kind::Eof => Err(ParseFailure::Incomplete),
            _ => Err(self.error_at(&token, "invalid token")),
        }
    }

    fn led(&mut self, kind: Kind, left: Node) -> PResult<Node> {
        match kind {
            Kind::Dot => {
                if self.current() != Kind::Star {
                    let right = self.dot_rhs(binding_power(Kind::Dot))?;
                    Ok(match left {
                        Node::Subexpression(mut children) => {
                            children.push(right);
                            Node::Subexpression(children)
                        }
                        other => Node::Subexpression(vec![other, right]),
                    })
                } else {
                    self.advance();
                    let right = self.projection_rhs(binding_power(Kind::Dot))?;
                    Ok(Node::ValueProjection(Box::new(left), Box::new(right)))
                }
            }
            Kind::Pipe => Ok(Node::Pipe(Box::new(left), Box::new(self.expression(binding_power(Kind::Pipe))?))),
            Kind::Or => Ok(Node::Or(Box::new(left), Box::new(self.expression(binding_power(Kind::Or))?))),
            Kind::And => Ok(Node::And(Box::new(left), Box::new(self.expression(binding_power(Kind::And))?))),
            Kind::Lparen => {
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
                Ok(Node::Function(name, args))
            }
            Kind::Filter => self.led_filter(left),
            Kind::Eq | Kind::Ne | Kind::Gt | Kind::Gte | Kind::Lt | Kind::Lte => {
                let cmp = match kind {
                    Kind::Eq => Cmp::Eq,
                    Kind::Ne => Cmp::Ne,
                    Kind::Gt => Cmp::Gt,
                    Kind::Gte => Cmp::Gte,
                    Kind::Lt => Cmp::Lt,
                    _ => Cmp::Lte,
                };
                let right = self.expression(binding_power(kind))?;
                Ok(Node::Comparator(cmp, Box::new(left), Box::new(right)))
            }
            Kind::Flatten => {
                let left = Node::Flatten(Box::new(left));
                let right = self.projection_rhs(binding_power(Kind::Flatten))?;
                Ok(Node::Projection(Box::new(left), Box::new(right)))
            }
            Kind::Lbracket => {
                if matches!(self.current(), Kind::Number | Kind::Colon) {
                    let right = self.index_expression()?;
                    match left {
                        Node::IndexExpression(mut children) => {
                            children.push(right);
                            Ok(Node::IndexExpression(children))
                        }
                        other => self.project_if_slice(other, right),
                    }
                } else {
                    self.match_kind(Kind::Star)?;
                    self.match_kind(Kind::Rbracket)?;
                    let right = self.projection_rhs(binding_power(Kind::Star))?;
                    Ok(Node::Projection(Box::new(left), Box::new(right)))
                }
            }
            _ => unreachable!("led called only for tokens that have one"),
        }
    }

    fn led_filter(&mut self, left: Node) -> PResult<Node> {
        let condition = self.expression(0)?;
        self.match_kind(Kind::Rbracket)?;
        let right = if self.current() == Kind::Flatten {
            Node::Identity
        } else {
            self.projection_rhs(binding_power(Kind::Filter))?
        };
        Ok(Node::FilterProjection(Box::new(left), Box::new(right), Box::new(condition)))
    }

    fn index_expression(&mut self) -> PResult<Node> {
        if self.lookahead(0) == Kind::Colon || self.lookahead(1) == Kind::Colon {
            return self.slice_expression();
        }
        let n = match &self.token(0).value {
            TokValue::Number(_, n) => *n,
            _ => unreachable!("an index is a number token"),
        };
        self.advance();
        self.match_kind(Kind::Rbracket)?;
        Ok(Node::Index(n))
    }

    fn slice_expression(&mut self) -> PResult<Node> {
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
        Ok(Node::Slice(parts))
    }

    fn project_if_slice(&mut self, left: Node, right: Node) -> PResult<Node> {
        let is_slice = matches!(right, Node::Slice(_));
        let index_expr = Node::IndexExpression(vec![left, right]);
        if is_slice {
            let rhs = self.projection_rhs(binding_power(Kind::Star))?;
            Ok(Node::Projection(Box::new(index_expr), Box::new(rhs)))
        } else {
            Ok(index_expr)
        }
    }

    fn multi_select_list(&mut self) -> PResult<Node> {
        let mut items = Vec::new();
        loop {
            items.push(self.expression(0)?);
            if self.current() == Kind::Rbracket {
                break;
            }
            self.match_kind(Kind::Comma)?;
        }
        self.match_kind(Kind::Rbracket)?;
        Ok(Node::MultiSelectList(items))
    }

    fn multi_select_hash(&mut self) -> PResult<Node> {
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
        Ok(Node::MultiSelectDict(pairs))
    }

    fn projection_rhs(&mut self, bp: u8) -> PResult<Node> {
        let kind = self.current();
        if binding_power(kind) < PROJECTION_STOP {
            Ok(Node::Identity)
        } else if kind == Kind::Lbracket || kind == Kind::Filter {
            self.expression(bp)
        } else if kind == Kind::Dot {
            self.match_kind(Kind::Dot)?;
            self.dot_rhs(bp)
        } else {
            Err(self.error_here("syntax error"))
        }
    }

    fn dot_rhs(&mut self, bp: u8) -> PResult<Node> {
        match self.current() {
            Kind::QuotedIdentifier | Kind::UnquotedIdentifier | Kind::Star => self.expression(bp),
            Kind::Lbracket => {
                self.match_kind(Kind::Lbracket)?;
                self.multi_select_list()
            }
            Kind::Lbrace => {
                self.match_kind(Kind::Lbrace)?;
                self.multi_select_hash()
            }
            other => {
                let allowed = str_list_repr(&["quoted_identifier", "unquoted_identifier", "lbracket", "lbrace"]);
                Err(self.error_here(format!("Expecting: {allowed}, got: {}", other.name())))
            }
        }
    }
}
