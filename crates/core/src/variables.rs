//! Variable references in action configuration: `#{namespace.name}`, as AWS
//! writes them. Three kinds of namespace resolve: `codepipeline` (what every
//! execution has: `PipelineExecutionId`), `variables` (the pipeline-level
//! variables of a V2 pipeline) and an action's `namespace` (the output
//! variables that action produced earlier in the execution).
//!
//! Text that is not a well-formed reference (`#{` without a closing brace, or
//! names outside the model's `[A-Za-z0-9@\-_]+`) is left as it is: AWS gives
//! it no meaning either.

use std::ops::Range;

/// The namespace of what every execution has.
pub(crate) const CODEPIPELINE: &str = "codepipeline";
/// The namespace of the pipeline-level variables.
pub(crate) const PIPELINE_VARIABLES: &str = "variables";
/// The variables of the `codepipeline` namespace.
pub(crate) const CODEPIPELINE_VARIABLES: &[&str] = &["PipelineExecutionId"];

/// One reference in a text: where it is, and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference<'a> {
    /// The byte range of `#{...}` in the text.
    pub(crate) span: Range<usize>,
    /// The namespace.
    pub(crate) namespace: &'a str,
    /// The variable's name in it.
    pub(crate) name: &'a str,
}

impl Reference<'_> {
    /// The reference as written.
    pub(crate) fn text(&self) -> String {
        format!("#{{{}.{}}}", self.namespace, self.name)
    }
}

/// Whether `s` is a name the model allows for namespaces and variables.
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'@' || b == b'-' || b == b'_')
}

/// The well-formed references in `text`, in order.
pub(crate) fn references(text: &str) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("#{").map(|i| from + i) {
        let inner = at + 2;
        let Some(len) = text[inner..].find('}') else { break };
        let body = &text[inner..inner + len];
        match body.split_once('.') {
            Some((namespace, name)) if is_name(namespace) && is_name(name) => {
                out.push(Reference { span: at..inner + len + 1, namespace, name });
                from = inner + len + 1;
            }
            // Not a reference: look again from just after this `#{`.
            _ => from = inner,
        }
    }
    out
}

/// `text` with every reference replaced by what `lookup` gives it; the
/// first reference `lookup` cannot resolve is the error.
pub(crate) fn resolve<'a>(
    text: &'a str,
    lookup: &mut dyn FnMut(&Reference<'a>) -> Option<String>,
) -> Result<String, Reference<'a>> {
    let refs = references(text);
    if refs.is_empty() {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in refs {
        let Some(value) = lookup(&r) else { return Err(r) };
        out.push_str(&text[last..r.span.start]);
        out.push_str(&value);
        last = r.span.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_well_formed_references_only() {
        let t = "a #{variables.Env}-#{Src.ETag} #{bad} #{x.y z} #{#{codepipeline.PipelineExecutionId}} #{open";
        let found: Vec<(&str, &str)> = references(t).iter().map(|r| (r.namespace, r.name)).collect();
        assert_eq!(found, [("variables", "Env"), ("Src", "ETag"), ("codepipeline", "PipelineExecutionId")]);
    }

    #[test]
    fn resolves_every_reference_or_names_the_first_it_cannot() {
        let mut lookup = |r: &Reference<'_>| (r.namespace == "v").then(|| format!("<{}>", r.name));
        assert_eq!(resolve("x#{v.a}y#{v.b}z", &mut lookup), Ok("x<a>y<b>z".into()));
        assert_eq!(resolve("plain #{text", &mut lookup), Ok("plain #{text".into()));
        let e = resolve("#{v.a} #{w.b}", &mut lookup).expect_err("w is unknown");
        assert_eq!(e.text(), "#{w.b}");
    }
}
