//! `--query`: JMESPath exactly as AWS CLI v1 runs it (Python `jmespath` 1.x).
//!
//! AWS CLI compiles the expression before anything else and prints
//! `Bad value for --query <expr>: <str(error)>`; after the request it searches
//! the parsed response and prints the result. Both the accepted language and
//! the bytes printed follow Python's implementation, not the spec's prose:
//! objects keep insertion order, ints stay ints (`length(x)` is `3`, not `3.0`),
//! and every error text is Python's (`Incomplete expression`, `In function
//! length(), invalid type for value: None, ...`).
//!
//! Pipeline: [`lexer`] (tokens, literals decoded by [`json`]) -> [`parser`]
//! (Pratt parser, Python's AST) -> [`interp`] (tree walk) -> [`functions`].

mod functions;
mod interp;
mod json;
mod lexer;
mod number;
mod parser;
mod value;

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::py::PyValue;

/// A compiled `--query` expression.
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
    root: Arc<parser::Node>,
}

/// Compiles `expression` as `jmespath.compile` does.
///
/// `Err(text)` is what AWS CLI prints after `Bad value for --query <expression>: `,
/// e.g. `Invalid JMESPath expression: cannot be empty.`; multi-line for parse errors.
pub fn compile(expression: &str) -> Result<Expression, String> {
    let root = with_stack_for(expression, || parser::parse(expression)).map_err(|e| e.render(expression))?;
    Ok(Expression { text: expression.to_string(), root: Arc::new(root) })
}

/// Expressions up to this many characters nest too shallowly to strain any stack.
const SHALLOW: usize = 64;

/// Stack for deep expressions: Python accepts about 490 nesting levels (977 in a
/// JSON literal), and our recursive descent, a debug build especially, needs
/// more than the 2 MiB of a spawned thread for that (about 3 MiB at worst).
/// Only the pages touched are ever committed.
const DEEP_STACK: usize = 64 << 20;

/// Runs `f`, on a thread with a large stack when `expression` could nest deeply.
fn with_stack_for<T: Send>(expression: &str, f: impl FnOnce() -> T + Send) -> T {
    if expression.len() <= SHALLOW {
        return f();
    }
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("jmespath".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, f)
            .expect("spawn the JMESPath thread");
        worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl Expression {
    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Evaluates the expression against `data`, as `ParsedResult.search` does.
    ///
    /// `Err(text)` is `str(exception)` of what Python raises (`JMESPathTypeError`,
    /// `ArityError`, `UnknownFunctionError`, or a plain `TypeError`/`ValueError`
    /// such as `slice step cannot be zero`). A result holding an `&expression`
    /// cannot be printed by AWS CLI's JSON encoder; its message is returned.
    pub fn search(&self, data: &PyValue) -> Result<PyValue, String> {
        with_stack_for(&self.text, || {
            let data = value::Value::from_py(data);
            interp::visit(&self.root, &data)?.into_py()
        })
    }
}
