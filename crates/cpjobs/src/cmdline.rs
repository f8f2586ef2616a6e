//! What the binary's own commands (`serve`, `dev-env`) share about their
//! arguments: lexopt parses, these helpers turn its values into text with
//! errors a user can act on.

/// The value of the option just read, as UTF-8 text.
pub(crate) fn value(parser: &mut lexopt::Parser) -> Result<String, String> {
    let v = parser.value().map_err(|e| e.to_string())?;
    v.into_string().map_err(|v| format!("{v:?} is not valid UTF-8"))
}
