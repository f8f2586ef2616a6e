//! The texts AWS CLI's parsers print: the usage block, argparse's
//! `prog: error: ...` line, the `Invalid choice` table and the
//! `Unknown options` report.
//!
//! AWS CLI passes one fixed usage string to every parser, so every argument
//! error prints the same block. AWS CLI's string opens with a carriage return
//! and a note recommending AWS CLI version 2; cpjobs leaves that banner out (a
//! deliberate difference, tests/conformance/differences.tsv) and keeps the rest
//! byte for byte. The program name is the one cpjobs was invoked as.

use super::difflib::get_close_matches;

/// The usage text as argparse prints it (`usage: ...`, ending in one newline).
pub fn usage(prog: &str) -> String {
    format!(
        "usage: {prog} [options] <command> <subcommand> [<subcommand> ...] [parameters]\n\
         To see help text, you can run:\n\n  {prog} help\n  {prog} <command> help\n  {prog} <command> <subcommand> help\n"
    )
}

/// `parser.error(message)`: the stderr text for exit code 2.
pub fn argparse_error(prog: &str, message: &str) -> String {
    format!("{}{prog}: error: {message}\n", usage(prog))
}

/// The stderr text for stray words at the operation level (exit 255).
pub fn unknown_options(prog: &str, remaining: &[String]) -> String {
    format!("{}\nUnknown options: {}\n", usage(prog), remaining.join(", "))
}

/// AWS CLI's `_check_value` message: the choices two per line, each padded
/// to 40 columns, then close matches (difflib, cutoff 0.8) if any.
pub fn invalid_choice(value: &str, choices: &[String]) -> String {
    let mut lines = vec!["Invalid choice, valid choices are:\n".to_owned()];
    for pair in choices.chunks(2) {
        let cells: Vec<String> = pair.iter().map(|c| format!("{c:<40}")).collect();
        lines.push(cells.join(" | "));
    }
    let close = get_close_matches(value, choices, 3, 0.8);
    if !close.is_empty() {
        let mut r = String::new();
        crate::py::value::str_repr(value, &mut r);
        lines.push(format!("\n\nInvalid choice: {r}, maybe you meant:\n"));
        for w in close {
            lines.push(format!("  * {w}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_table_layout() {
        let choices: Vec<String> = ["json", "text", "table"].iter().map(|s| (*s).to_owned()).collect();
        let m = invalid_choice("yaml", &choices);
        assert_eq!(
            m,
            format!("Invalid choice, valid choices are:\n\n{:<40} | {:<40}\n{:<40}", "json", "text", "table")
        );
        let m = invalid_choice("jsn", &choices);
        assert!(m.ends_with("\n\n\nInvalid choice: 'jsn', maybe you meant:\n\n  * json"), "{m:?}");
    }

    #[test]
    fn usage_names_the_program() {
        let u = usage("aws");
        assert!(u.starts_with("usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\n"));
        assert!(u.ends_with("  aws <command> <subcommand> help\n"));
        assert!(argparse_error("cpjobs", "x").ends_with("  cpjobs <command> <subcommand> help\ncpjobs: error: x\n"));
    }
}
