//! A port of Python 3.11's `argparse.ArgumentParser.parse_known_args`, the
//! part AWS CLI v1 relies on.
//!
//! AWS CLI parses one command line three times (main, service, operation
//! parser), each time with `parse_known_args`, handing what one parser did not
//! know to the next. Its observable quirks (prefix matching against the
//! options of *that* parser, `--opt=value`, the first `--` dropped, the last
//! duplicate winning, stray words landing in "extras" in a particular order,
//! `expected one argument`) all come from argparse's algorithm: classify every
//! word as option (`O`), argument (`A`) or `--` (`-`), then alternately consume
//! positionals and optionals by matching nargs patterns against that string.
//! This module keeps that algorithm step for step, so those quirks fall out
//! instead of being special-cased.

use std::collections::HashMap;

use crate::py::value::str_repr;

/// How many words an action takes (argparse's `nargs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nargs {
    /// `nargs=None`: exactly one.
    One,
    /// `nargs='?'`.
    Optional,
    /// `nargs='*'`.
    ZeroOrMore,
    /// `nargs='+'`.
    OneOrMore,
    /// `nargs=0`: flags (`store_true`, `store_false`, `version`).
    Zero,
}

/// What an action does with its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    /// `store` (with `nargs`).
    Store,
    /// `store_true` / `store_false`: stores the bool.
    StoreBool(bool),
    /// `version`: prints the text on stdout and exits 0.
    Version(String),
}

/// The `type=` conversion of a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `str`: kept as typed.
    Str,
    /// `int`: checked with Python's `int()`, kept as typed text.
    Int,
}

/// One `add_argument` call.
#[derive(Debug, Clone)]
pub struct Action {
    /// `--name` strings; empty for a positional.
    pub option_strings: Vec<String>,
    /// Namespace attribute.
    pub dest: String,
    /// Word count.
    pub nargs: Nargs,
    /// Behaviour.
    pub kind: ActionKind,
    /// `choices=`.
    pub choices: Option<Vec<String>>,
    /// `required=`.
    pub required: bool,
    /// `const=` (used by `nargs='?'` options given without a word).
    pub constant: Option<String>,
    /// `default=` for a store action (a string default is converted and checked at the end, as argparse does).
    pub default: Option<String>,
    /// `default=` for a bool action (`None` when the flag has no default).
    pub bool_default: Option<bool>,
    /// `type=`.
    pub value_type: ValueType,
}

impl Action {
    /// A `store` option taking one word.
    pub fn option(name: &str, dest: &str) -> Action {
        Action {
            option_strings: vec![name.to_owned()],
            dest: dest.to_owned(),
            nargs: Nargs::One,
            kind: ActionKind::Store,
            choices: None,
            required: false,
            constant: None,
            default: None,
            bool_default: None,
            value_type: ValueType::Str,
        }
    }

    /// A `store_true` (`value` true) or `store_false` flag.
    pub fn flag(name: &str, dest: &str, value: bool, default: Option<bool>) -> Action {
        Action {
            nargs: Nargs::Zero,
            kind: ActionKind::StoreBool(value),
            bool_default: default,
            ..Action::option(name, dest)
        }
    }

    /// A positional.
    pub fn positional(dest: &str, nargs: Nargs) -> Action {
        Action { option_strings: Vec::new(), nargs, ..Action::option("", dest) }
    }

    /// argparse's `_get_action_name`: `--a/--b` for options, the dest for positionals.
    pub fn display_name(&self) -> String {
        if self.option_strings.is_empty() { self.dest.clone() } else { self.option_strings.join("/") }
    }
}

/// A parsed value in the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One word (or a converted default).
    Str(String),
    /// Several words (`nargs='*'`/`'+'`).
    List(Vec<String>),
    /// A flag.
    Bool(bool),
}

/// argparse's `Namespace`: dest -> value; an absent dest is Python's `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    values: HashMap<String, Value>,
}

impl Namespace {
    /// The value of `dest`, `None` when unset.
    pub fn get(&self, dest: &str) -> Option<&Value> {
        self.values.get(dest)
    }

    /// The string value of `dest`.
    pub fn str(&self, dest: &str) -> Option<&str> {
        match self.values.get(dest) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The bool value of `dest`.
    pub fn bool(&self, dest: &str) -> Option<bool> {
        match self.values.get(dest) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    fn set(&mut self, dest: &str, v: Value) {
        self.values.insert(dest.to_owned(), v);
    }
}

/// Why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `parser.error(message)`: usage, `prog: error: message`, exit 2.
    Error(String),
    /// The `version` action ran: print this on stdout, exit 0.
    Version(String),
}

/// How an `Invalid choice` message is built; AWS CLI overrides argparse's `_check_value`.
pub type ChoiceMessage = fn(value: &str, choices: &[String]) -> String;

/// A parser: its actions in `add_argument` order.
#[derive(Debug, Clone)]
pub struct Parser {
    /// Actions in the order they were added.
    pub actions: Vec<Action>,
    /// The message for a value outside `choices`.
    pub choice_message: ChoiceMessage,
}

/// An option word after classification: the action index (None = unknown option), the option string and an explicit `=` argument.
type OptionTuple = (Option<usize>, String, Option<String>);

impl Parser {
    /// A parser with these actions.
    pub fn new(actions: Vec<Action>, choice_message: ChoiceMessage) -> Parser {
        Parser { actions, choice_message }
    }

    fn option_index(&self, s: &str) -> Option<usize> {
        // `conflict_handler='resolve'` lets a later action take over an option string.
        self.actions.iter().rposition(|a| a.option_strings.iter().any(|o| o == s))
    }

    fn all_option_strings(&self) -> Vec<(&str, usize)> {
        let mut v = Vec::new();
        for (i, a) in self.actions.iter().enumerate() {
            for o in &a.option_strings {
                if self.option_index(o) == Some(i) {
                    v.push((o.as_str(), i));
                }
            }
        }
        v
    }

    /// `_parse_optional`: `Ok(None)` for a positional word.
    fn parse_optional(&self, arg: &str) -> Result<Option<OptionTuple>, Stop> {
        if arg.is_empty() || !arg.starts_with('-') {
            return Ok(None);
        }
        if let Some(i) = self.option_index(arg) {
            return Ok(Some((Some(i), arg.to_owned(), None)));
        }
        if arg.chars().count() == 1 {
            return Ok(None);
        }
        if let Some((opt, explicit)) = arg.split_once('=')
            && let Some(i) = self.option_index(opt)
        {
            return Ok(Some((Some(i), opt.to_owned(), Some(explicit.to_owned()))));
        }
        let tuples = self.option_tuples(arg);
        if tuples.len() > 1 {
            let options: Vec<&str> = tuples.iter().map(|t| t.1.as_str()).collect();
            return Err(Stop::Error(format!("ambiguous option: {arg} could match {}", options.join(", "))));
        }
        if let Some(t) = tuples.into_iter().next() {
            return Ok(Some(t));
        }
        if is_negative_number(arg) {
            return Ok(None);
        }
        if arg.contains(' ') {
            return Ok(None);
        }
        Ok(Some((None, arg.to_owned(), None)))
    }

    /// `_get_option_tuples`: prefix matches (`allow_abbrev`).
    fn option_tuples(&self, arg: &str) -> Vec<OptionTuple> {
        let mut result = Vec::new();
        let second_dash = arg.chars().nth(1) == Some('-');
        if second_dash {
            let (prefix, explicit) = match arg.split_once('=') {
                Some((p, e)) => (p, Some(e.to_owned())),
                None => (arg, None),
            };
            for (o, i) in self.all_option_strings() {
                if o.starts_with(prefix) {
                    result.push((Some(i), o.to_owned(), explicit.clone()));
                }
            }
        } else {
            let short: String = arg.chars().take(2).collect();
            let short_explicit: String = arg.chars().skip(2).collect();
            for (o, i) in self.all_option_strings() {
                if o == short {
                    result.push((Some(i), o.to_owned(), Some(short_explicit.clone())));
                } else if o.starts_with(arg) {
                    result.push((Some(i), o.to_owned(), None));
                }
            }
        }
        result
    }

    /// `parse_known_args`: the namespace and the words no action took.
    pub fn parse_known_args(&self, args: &[String]) -> Result<(Namespace, Vec<String>), Stop> {
        let mut ns = Namespace::default();
        let mut run =
            Run { parser: self, args, ns: &mut ns, extras: Vec::new(), seen: vec![false; self.actions.len()] };
        run.parse()?;
        let extras = std::mem::take(&mut run.extras);
        Ok((ns, extras))
    }

    fn argument_error(&self, action: &Action, message: &str) -> Stop {
        Stop::Error(format!("argument {}: {}", action.display_name(), message))
    }

    /// `_get_value` + `_check_value` for one word.
    fn convert(&self, action: &Action, word: &str) -> Result<String, Stop> {
        if action.value_type == ValueType::Int && crate::args::pyint::parse(word).is_none() {
            let mut r = String::new();
            str_repr(word, &mut r);
            return Err(self.argument_error(action, &format!("invalid int value: {r}")));
        }
        if let Some(choices) = &action.choices
            && !choices.iter().any(|c| c == word)
        {
            return Err(self.argument_error(action, &(self.choice_message)(word, choices)));
        }
        Ok(word.to_owned())
    }
}

fn is_negative_number(s: &str) -> bool {
    // '^-\d+$|^-\d*\.\d+$' (Python's \d is any Unicode decimal digit; ASCII here).
    let Some(rest) = s.strip_prefix('-') else { return false };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if digits(rest) {
        return true;
    }
    match rest.split_once('.') {
        Some((a, b)) => (a.is_empty() || a.chars().all(|c| c.is_ascii_digit())) && digits(b),
        None => false,
    }
}

/// The state of one `_parse_known_args` call.
struct Run<'a> {
    parser: &'a Parser,
    args: &'a [String],
    ns: &'a mut Namespace,
    extras: Vec<String>,
    seen: Vec<bool>,
}

impl Run<'_> {
    fn parse(&mut self) -> Result<(), Stop> {
        let p = self.parser;
        // Defaults first, as parse_known_args does (string defaults are converted at the end).
        for a in &p.actions {
            if let ActionKind::StoreBool(_) = a.kind
                && let Some(d) = a.bool_default
                && !self.ns.values.contains_key(&a.dest)
            {
                self.ns.set(&a.dest, Value::Bool(d));
            }
        }
        let mut options: HashMap<usize, OptionTuple> = HashMap::new();
        let mut pattern: Vec<u8> = Vec::with_capacity(self.args.len());
        let mut after_dashes = false;
        for (i, arg) in self.args.iter().enumerate() {
            if after_dashes {
                pattern.push(b'A');
            } else if arg == "--" {
                pattern.push(b'-');
                after_dashes = true;
            } else {
                match p.parse_optional(arg)? {
                    None => pattern.push(b'A'),
                    Some(t) => {
                        options.insert(i, t);
                        pattern.push(b'O');
                    }
                }
            }
        }
        let mut positionals: Vec<usize> =
            p.actions.iter().enumerate().filter(|(_, a)| a.option_strings.is_empty()).map(|(i, _)| i).collect();
        let max_option = options.keys().copied().max();
        let mut start = 0usize;
        if let Some(max_option) = max_option {
            while start <= max_option {
                let next = options.keys().copied().filter(|&i| i >= start).min().unwrap_or(max_option);
                if start != next {
                    let end = self.consume_positionals(start, &pattern, &mut positionals)?;
                    if end > start {
                        start = end;
                        continue;
                    }
                    start = end;
                }
                if !options.contains_key(&start) {
                    self.extras.extend(self.args[start..next].iter().cloned());
                    start = next;
                }
                start = self.consume_optional(start, &pattern, &options)?;
            }
        }
        let stop = self.consume_positionals(start, &pattern, &mut positionals)?;
        self.extras.extend(self.args[stop..].iter().cloned());

        let mut required = Vec::new();
        for (i, a) in p.actions.iter().enumerate() {
            if self.seen[i] {
                continue;
            }
            if a.required {
                required.push(a.display_name());
            } else if let (ActionKind::Store, Some(d)) = (&a.kind, &a.default)
                && !self.ns.values.contains_key(&a.dest)
            {
                let v = p.convert(a, d)?;
                self.ns.set(&a.dest, Value::Str(v));
            }
        }
        if !required.is_empty() {
            return Err(Stop::Error(format!("the following arguments are required: {}", required.join(", "))));
        }
        Ok(())
    }

    fn take_action(&mut self, index: usize, words: &[String], option_given: bool) -> Result<(), Stop> {
        let p = self.parser;
        let a = &p.actions[index];
        self.seen[index] = true;
        let mut words: Vec<String> = words.to_vec();
        if let Some(pos) = words.iter().position(|w| w == "--") {
            words.remove(pos);
        }
        match &a.kind {
            ActionKind::Version(text) => return Err(Stop::Version(text.clone())),
            ActionKind::StoreBool(b) => self.ns.set(&a.dest, Value::Bool(*b)),
            ActionKind::Store => {
                let value = match (a.nargs, words.len()) {
                    (Nargs::Optional, 0) => {
                        let v = if option_given { a.constant.clone() } else { a.default.clone() };
                        match v {
                            Some(v) => Some(Value::Str(p.convert(a, &v)?)),
                            None => None,
                        }
                    }
                    (Nargs::One | Nargs::Optional, 1) => Some(Value::Str(p.convert(a, &words[0])?)),
                    (Nargs::ZeroOrMore, 0) if !option_given => a.default.clone().map(Value::Str),
                    _ => {
                        let mut out = Vec::with_capacity(words.len());
                        for w in &words {
                            out.push(p.convert(a, w)?);
                        }
                        Some(Value::List(out))
                    }
                };
                match value {
                    Some(v) => self.ns.set(&a.dest, v),
                    None => {
                        // Python sets the attribute to None: a later default must not overwrite it.
                        self.ns.values.remove(&a.dest);
                    }
                }
            }
        }
        Ok(())
    }

    fn consume_optional(
        &mut self,
        start: usize,
        pattern: &[u8],
        options: &HashMap<usize, OptionTuple>,
    ) -> Result<usize, Stop> {
        let (action, _option, explicit) = options[&start].clone();
        let Some(index) = action else {
            self.extras.push(self.args[start].clone());
            return Ok(start + 1);
        };
        let a = &self.parser.actions[index];
        if let Some(explicit) = explicit {
            // Only long options exist in AWS CLI's parsers, so the single-dash
            // `-xyz` expansion never applies: one word or an error.
            match match_option(a.nargs, b"A") {
                Some(1) => {
                    self.take_action(index, &[explicit], true)?;
                    Ok(start + 1)
                }
                _ => {
                    let mut r = String::new();
                    str_repr(&explicit, &mut r);
                    Err(self.parser.argument_error(a, &format!("ignored explicit argument {r}")))
                }
            }
        } else {
            let rest = &pattern[start + 1..];
            let count = match match_option(a.nargs, rest) {
                Some(n) => n,
                None => {
                    let msg = match a.nargs {
                        Nargs::One => "expected one argument",
                        Nargs::Optional => "expected at most one argument",
                        Nargs::OneOrMore => "expected at least one argument",
                        _ => "expected 0 arguments",
                    };
                    return Err(self.parser.argument_error(a, msg));
                }
            };
            let words: Vec<String> = self.args[start + 1..start + 1 + count].to_vec();
            self.take_action(index, &words, true)?;
            Ok(start + 1 + count)
        }
    }

    fn consume_positionals(
        &mut self,
        start: usize,
        pattern: &[u8],
        positionals: &mut Vec<usize>,
    ) -> Result<usize, Stop> {
        let counts = match_positionals(
            &positionals.iter().map(|&i| self.parser.actions[i].nargs).collect::<Vec<_>>(),
            &pattern[start..],
        );
        let mut at = start;
        for (k, &count) in counts.iter().enumerate() {
            let words: Vec<String> = self.args[at..at + count].to_vec();
            at += count;
            self.take_action(positionals[k], &words, false)?;
        }
        positionals.drain(..counts.len());
        Ok(at)
    }
}

/// `_match_argument` for an option (its pattern has no `-`): how many words it takes, `None` on no match.
fn match_option(nargs: Nargs, rest: &[u8]) -> Option<usize> {
    let a_run = rest.iter().take_while(|&&c| c == b'A').count();
    match nargs {
        Nargs::Zero => Some(0),
        Nargs::One => (a_run >= 1).then_some(1),
        Nargs::Optional => Some(a_run.min(1)),
        Nargs::ZeroOrMore => Some(a_run),
        Nargs::OneOrMore => (a_run >= 1).then_some(a_run),
    }
}

/// Greedy match of one positional's pattern at the start of `s`; the length matched.
fn match_one_positional(nargs: Nargs, s: &[u8]) -> Option<usize> {
    let dashes = |from: usize| s[from..].iter().take_while(|&&c| c == b'-').count();
    match nargs {
        Nargs::One | Nargs::Optional => {
            let mut i = dashes(0);
            if s.get(i) == Some(&b'A') {
                i += 1;
            } else if nargs == Nargs::One {
                return None;
            }
            Some(i + dashes(i))
        }
        Nargs::ZeroOrMore | Nargs::OneOrMore => {
            let lead = dashes(0);
            if nargs == Nargs::OneOrMore && s.get(lead) != Some(&b'A') {
                return None;
            }
            Some(lead + s[lead..].iter().take_while(|&&c| c == b'A' || c == b'-').count())
        }
        Nargs::Zero => Some(dashes(0)),
    }
}

/// `_match_arguments_partial`: as many positionals as possible, from the front.
/// AWS CLI's parsers have at most one positional each, so a greedy match per
/// positional equals the regex match of the concatenated patterns.
fn match_positionals(nargs: &[Nargs], s: &[u8]) -> Vec<usize> {
    for n in (1..=nargs.len()).rev() {
        let mut counts = Vec::with_capacity(n);
        let mut at = 0;
        let mut ok = true;
        for &k in &nargs[..n] {
            match match_one_positional(k, &s[at..]) {
                Some(c) => {
                    counts.push(c);
                    at += c;
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return counts;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(value: &str, _: &[String]) -> String {
        format!("invalid choice: {value}")
    }

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| (*w).to_owned()).collect()
    }

    fn main_like() -> Parser {
        let mut output = Action::option("--output", "output");
        output.choices = Some(words(&["json", "text", "table"]));
        let mut command = Action::positional("command", Nargs::One);
        command.required = true;
        Parser::new(
            vec![
                Action::flag("--debug", "debug", true, Some(false)),
                Action::option("--profile", "profile"),
                Action::option("--region", "region"),
                output,
                Action::flag("--version", "version", true, None),
                command,
            ],
            plain,
        )
    }

    #[test]
    fn unknown_words_go_to_extras_in_argparse_order() {
        let p = main_like();
        let (ns, extras) = p
            .parse_known_args(&words(&["codepipeline", "poll", "--region", "x", "--action-type-id", "a", "b"]))
            .unwrap();
        assert_eq!(ns.str("command"), Some("codepipeline"));
        assert_eq!(ns.str("region"), Some("x"));
        assert_eq!(extras, words(&["poll", "--action-type-id", "a", "b"]));
    }

    #[test]
    fn prefixes_equals_and_last_wins() {
        let p = main_like();
        let (ns, _) = p.parse_known_args(&words(&["--reg=a", "--out", "text", "--region", "b", "c"])).unwrap();
        assert_eq!(ns.str("region"), Some("b"));
        assert_eq!(ns.str("output"), Some("text"));
        assert_eq!(ns.bool("debug"), Some(false));
    }

    #[test]
    fn errors_are_argparse_texts() {
        let p = main_like();
        assert_eq!(
            p.parse_known_args(&words(&["c", "--region"])),
            Err(Stop::Error("argument --region: expected one argument".into()))
        );
        assert_eq!(
            p.parse_known_args(&words(&["--region", "--5"])),
            Err(Stop::Error("argument --region: expected one argument".into()))
        );
        assert_eq!(
            p.parse_known_args(&words(&[])),
            Err(Stop::Error("the following arguments are required: command".into()))
        );
        assert_eq!(
            p.parse_known_args(&words(&["c", "--output", "yaml"])),
            Err(Stop::Error("argument --output: invalid choice: yaml".into()))
        );
        assert!(p.parse_known_args(&words(&["--", "x", "--ver"])).is_ok());
        assert_eq!(
            p.parse_known_args(&words(&["c", "--debug=1"])),
            Err(Stop::Error("argument --debug: ignored explicit argument '1'".into()))
        );
    }

    #[test]
    fn ambiguous_prefix() {
        let p = Parser::new(vec![Action::option("--color", "c"), Action::option("--ca-bundle", "b")], plain);
        assert_eq!(
            p.parse_known_args(&words(&["--c", "x"])),
            Err(Stop::Error("ambiguous option: --c could match --color, --ca-bundle".into()))
        );
    }

    #[test]
    fn double_dash_dropped_and_negative_numbers_positional() {
        let p = Parser::new(vec![Action::positional("operation", Nargs::One)], plain);
        let (ns, extras) = p.parse_known_args(&words(&["op", "--", "--x", "v"])).unwrap();
        assert_eq!(ns.str("operation"), Some("op"));
        assert_eq!(extras, words(&["--x", "v"]));
        let (ns, extras) = p.parse_known_args(&words(&["-5", "-x"])).unwrap();
        assert_eq!(ns.str("operation"), Some("-5"));
        assert_eq!(extras, words(&["-x"]));
    }

    #[test]
    fn optional_positional_takes_first_stray_word() {
        let p = Parser::new(vec![Action::option("--a", "a"), Action::positional("help", Nargs::Optional)], plain);
        let (ns, extras) = p.parse_known_args(&words(&["--a", "1", "extra", "positional"])).unwrap();
        assert_eq!(ns.str("help"), Some("extra"));
        assert_eq!(extras, words(&["positional"]));
        let mut skel = Action::option("--skel", "skel");
        skel.nargs = Nargs::Optional;
        skel.constant = Some("input".into());
        let p = Parser::new(vec![skel, Action::positional("help", Nargs::Optional)], plain);
        let (ns, _) = p.parse_known_args(&words(&["--skel"])).unwrap();
        assert_eq!(ns.str("skel"), Some("input"));
        let (ns, _) = p.parse_known_args(&words(&["--skel", "output"])).unwrap();
        assert_eq!(ns.str("skel"), Some("output"));
        assert_eq!(ns.get("help"), None);
    }

    #[test]
    fn int_type_and_lists() {
        let mut n = Action::option("--page-size", "page_size");
        n.value_type = ValueType::Int;
        let mut l = Action::option("--keys", "keys");
        l.nargs = Nargs::ZeroOrMore;
        let p = Parser::new(vec![n, l], plain);
        assert_eq!(
            p.parse_known_args(&words(&["--page-size", "x"])),
            Err(Stop::Error("argument --page-size: invalid int value: 'x'".into()))
        );
        let (ns, _) = p.parse_known_args(&words(&["--keys", "a", "b", "--page-size", " 3"])).unwrap();
        assert_eq!(ns.get("keys"), Some(&Value::List(words(&["a", "b"]))));
        assert_eq!(ns.str("page_size"), Some(" 3"));
        let (ns, _) = p.parse_known_args(&words(&["--keys"])).unwrap();
        assert_eq!(ns.get("keys"), Some(&Value::List(vec![])));
    }

    #[test]
    fn version_stops_when_reached() {
        let p = Parser::new(
            vec![
                Action { kind: ActionKind::Version("v1".into()), ..Action::flag("--version", "version", true, None) },
                Action::option("--region", "region"),
            ],
            plain,
        );
        assert_eq!(p.parse_known_args(&words(&["x", "--version", "--region"])), Err(Stop::Version("v1".into())));
    }
}
