//! cpjobs's deliberate differences from AWS CLI's text, as one mapping for tests.
//!
//! Where AWS CLI prints a Python artefact, cpjobs prints a message of its own
//! (the list and the reasons: tests/conformance/differences.tsv). Tests that hold
//! recorded AWS CLI output pass both texts through [`normalize`], which rewrites
//! exactly those artefacts to a common form, so everything else is still compared
//! byte for byte.

/// Python class reprs botocore prints, and the names cpjobs prints instead.
const TYPE_NAMES: &[(&str, &str)] = &[
    ("<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>", "float, integer"),
    ("<class 'list'>, <class 'tuple'>", "list"),
    ("<class 'bytes'>, <class 'bytearray'>, file-like object", "bytes (fileb://)"),
    ("<class 'datetime.datetime'>, timestamp-string", "timestamp (ISO 8601 text or epoch seconds)"),
    ("<class 'collections.OrderedDict'>", "object"),
    ("<class 'dict'>", "object"),
    ("<class 'str'>", "string"),
    ("<class 'int'>", "integer"),
    ("<class 'bool'>", "boolean"),
    ("<class 'float'>", "float"),
    ("<class 'NoneType'>", "null"),
    ("<class 'bytes'>", "bytes"),
    ("<class 'list'>", "list"),
];

/// The start of AWS CLI's usage text, with its banner recommending AWS CLI version 2.
const USAGE_BANNER: &str = "usage: \rNote: AWS CLI version 2, the latest major version of the AWS CLI, is now stable and recommended for general use. For more information, see the AWS CLI version 2 installation instructions at: https://docs.aws.amazon.com/cli/latest/userguide/install-cliv2.html\n\nusage: ";

/// Python's TypeError when `fileb://` bytes reach the shorthand parser, and ours.
pub(crate) const FILEB_TYPE_ERROR: (&str, &str) = (
    "'in <string>' requires string as left operand, not int",
    "fileb:// gives bytes, but this parameter takes text: use file:// to read the file as text",
);

/// Rewrites the deliberate differences in `text` (AWS CLI's or ours) to one form.
pub(crate) fn normalize(text: &str) -> String {
    let mut s = text.replace(FILEB_TYPE_ERROR.0, FILEB_TYPE_ERROR.1).replace(USAGE_BANNER, "usage: ");
    if let Some(end) = s.find("' object has no attribute 'keys'")
        && let Some(start) = s[..end].rfind('\'')
    {
        let ours = crate::params::cli_input_json_not_object(&s[start + 1..end]);
        s.replace_range(start..end + "' object has no attribute 'keys'".len(), &ours);
    }
    // botocore's crashes on a response of the wrong shape, and our message.
    for (python, expected) in [
        ("' object has no attribute 'get'", "an object"),
        ("' object has no attribute 'items'", "an object"),
        ("' object has no attribute 'setdefault'", "an object"),
        ("' object is not iterable", "a list"),
    ] {
        if let Some(end) = s.find(python)
            && let Some(start) = s[..end].rfind("\n'").map(|i| i + 1)
        {
            let ours = crate::output::parse::shape_mismatch(expected, &s[start + 1..end]);
            s.replace_range(start..end + python.len(), &ours);
        }
    }
    if s.contains("Invalid type for parameter") {
        for (python, ours) in TYPE_NAMES {
            s = s.replace(python, ours);
        }
    }
    // A shorthand syntax error ends with its location: AWS CLI's literal template,
    // or our input-and-caret text; both become one marker.
    if let Some(start) = s.find("Expected: '")
        && let Some(rel) = s[start..].find(" for input:\n")
    {
        let cut = start + rel + " for input:\n".len();
        // The location runs to the end of the input, which may itself end in newlines.
        s.truncate(cut);
        s.push_str("<location>");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn both_texts_meet() {
        let aws = "\nError parsing parameter '--action-type-id': Expected: '=', received: 'c' for input:\n{self._error_location()}\n";
        let ours = "\nError parsing parameter '--action-type-id': Expected: '=', received: 'c' for input:\n category=Build\n ^\n";
        assert_eq!(normalize(aws), normalize(ours));
        let aws = "Invalid type for parameter x, value: 1, type: <class 'int'>, valid types: <class 'str'>";
        assert_eq!(normalize(aws), "Invalid type for parameter x, value: 1, type: integer, valid types: string");
    }
}
