//! The `cpjobs` binary: `serve`, `worker` and the AWS CLI compatible
//! `codepipeline <operation>` commands. The binary only dispatches; the work
//! lives in library crates so it can be tested without a process.

use std::path::Path;

fn main() {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "cpjobs".to_owned());
    // AWS CLI names itself after how it was invoked (argparse's `prog`), so a
    // link named `aws` prints `aws: error: ...`.
    let prog =
        Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cpjobs".to_owned());
    let rest: Vec<String> = args.collect();
    let code = cpjobs_cli::run(&prog, &rest);
    std::process::exit(code);
}
