//! Property test of the shorthand parser (issue 8: the parsers see hostile
//! input): random and mutated shorthand never panics, and is parsed exactly
//! as AWS CLI's own `ShorthandParser` parses it (the same value, or a refusal
//! where it refuses), checked in one batch against the installed awscli.

use std::io::Write;
use std::process::{Command, Stdio};

use cpjobs_cli::params::shorthand::{self, ShorthandError};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Cases per run: enough to walk the grammar's corners, few enough for one
/// Python process to answer in about a second.
const CASES: usize = 2000;

/// Pieces of the shorthand grammar and of what breaks it. `@` (a file
/// reference) is left out: it reads files.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "a", "Key", "Values", "=", ",", "[", "]", "{", "}", "'", "\"", "\\", " ", "\t", "x", "1", "-1", "é", "€",
            "\n", ".", "-", "_", ":", "/", "==", ",,", "[]", "{}", "''", "\"\"", "\\'", "\\\"", "\\,", "\\\\",
        ])
        .prop_map(str::to_owned),
        any::<char>().prop_filter("no file references", |c| *c != '@').prop_map(|c| c.to_string()),
    ]
}

fn random_input() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..20).prop_map(|v| v.concat())
}

/// Valid shorthand, then a few characters inserted, removed or replaced.
fn mutated_input() -> impl Strategy<Value = String> {
    let seeds = prop::sample::select(vec![
        "a=b,c=d",
        "Key=value,Values=[a,b]",
        "k=[1,2],m={x=y,z=[p,q]}",
        "a=\"q,uoted\",b='single \\' quote'",
        "name=x,actionTypeId={category=Build,owner=Custom,provider=P,version=1}",
        "a=[{b=c},{d=[e,f]}]",
        "type=JobFailed,message=it broke, badly",
        "k=v=w,x= y ",
    ]);
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, piece()), 0..4);
    (seeds, edits).prop_map(|(seed, edits)| {
        let mut chars: Vec<char> = seed.chars().collect();
        for (at, kind, text) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.splice(i..i, text.chars()).for_each(drop),
                1 if i < chars.len() => {
                    chars.remove(i);
                }
                _ if i < chars.len() => chars.splice(i..=i, text.chars()).for_each(drop),
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

/// What AWS CLI makes of each input: `Some(repr)` or `None` for a refusal.
fn awscli_parses(inputs: &[String]) -> Vec<Option<String>> {
    const SCRIPT: &str = r#"
import json, sys
from awscli.shorthand import ShorthandParser, ShorthandParseError
out = []
for s in json.load(sys.stdin):
    try:
        out.append(repr(ShorthandParser().parse(s)))
    except ShorthandParseError:
        out.append(None)
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let text = serde_json::to_vec(inputs).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 with awscli (installed by scripts/setup-test-deps.sh)");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn random_and_mutated_shorthand_parses_as_awscli_parses_it() {
    // A fixed seed: the same cases on every run, so a failure can be replayed.
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let mut inputs = Vec::with_capacity(CASES);
    for i in 0..CASES {
        let input = if i % 2 == 0 {
            random_input().new_tree(&mut runner).unwrap().current()
        } else {
            mutated_input().new_tree(&mut runner).unwrap().current()
        };
        inputs.push(input);
    }
    let ours: Vec<Option<String>> = inputs
        .iter()
        .map(|s| match std::panic::catch_unwind(|| shorthand::parse(s)) {
            Ok(Ok(v)) => Some(v.repr()),
            Ok(Err(ShorthandError::Parse(m) | ShorthandError::Plain(m))) => {
                assert!(!m.is_empty(), "an empty error for {s:?}");
                None
            }
            Err(_) => panic!("the shorthand parser panicked on {s:?}"),
        })
        .collect();
    let theirs = awscli_parses(&inputs);
    let differ: Vec<_> = inputs.iter().zip(ours.iter().zip(&theirs)).filter(|(_, (a, b))| a != b).take(5).collect();
    assert!(differ.is_empty(), "parsed unlike AWS CLI (input, (ours, awscli)): {differ:#?}");
    // Both kinds of answer were exercised.
    assert!(theirs.iter().any(Option::is_some) && theirs.iter().any(Option::is_none));
}
