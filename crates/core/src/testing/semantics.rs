//! Domain scenarios of the pipeline around the jobs (issue 10): the rules AWS
//! is strict about, operations cpjobs does not run, and stage transitions.
//! Listed in [`named`](super::named) like every scenario of
//! [`domain`](super::domain), which dispatches to them.
#![deny(dead_code)]

use serde_json::{Value, json};

use super::domain::{
    CUSTOMER, OTHER, PARTNER, World, action, approve, custom_id, custom_source, declaration, gated, partner_pipeline,
    run_custom, start,
};
use crate::store::Store;

/// A declaration of two custom stages (`MySource` then `MyBuilder`), made V2 when `v2`.
fn two_stages(name: &str, v2: bool) -> Value {
    let mut decl = declaration(
        name,
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            ("Build", vec![action("Make", custom_id("Build", "Maker"), &["code"], &[], 1)]),
        ],
    );
    if v2 {
        decl["pipelineType"] = json!("V2");
    }
    decl
}

/// Creates the customer's custom `Build`/`Maker` type (no configuration).
pub(super) fn maker<S: Store>(w: &World<S>) {
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": "Build", "provider": "Maker", "version": "1",
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
               "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}}),
        0,
    );
}

/// Asserts `op` with `input` is refused with `code` and that the pipeline
/// `name` is still absent (a refused creation stores nothing).
#[track_caller]
fn refused_creation<S: Store>(w: &World<S>, decl: Value, code: &str, why: &str) {
    let name = decl["name"].as_str().expect("name").to_owned();
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0), code, "{why}");
    assert_eq!(w.err(CUSTOMER, "GetPipeline", json!({"name": name}), 0), "PipelineNotFoundException", "{why}");
}

pub(crate) fn strict_where_aws_is_strict<S: Store>(w: World<S>) {
    custom_source(&w);
    maker(&w);
    let vars = json!([{"name": "Env", "defaultValue": "dev"}, {"name": "Tag"}]);

    // V2 features on a V1 pipeline (pipelineType left out is V1).
    let mut d = two_stages("v1vars", false);
    d["variables"] = vars.clone();
    refused_creation(&w, d.clone(), "ValidationException", "variables need V2");
    d["pipelineType"] = json!("V1");
    refused_creation(&w, d, "ValidationException", "variables need V2, said outright");
    let mut d = two_stages("v1trig", false);
    d["triggers"] =
        json!([{"providerType": "CodeStarSourceConnection", "gitConfiguration": {"sourceActionName": "Get"}}]);
    refused_creation(&w, d.clone(), "ValidationException", "triggers need V2");
    d["pipelineType"] = json!("V2");
    refused_creation(&w, d, "ValidationException", "triggers need a CodeStarSourceConnection source");
    let mut d = two_stages("v1cond", false);
    d["stages"][1]["beforeEntry"] = json!({"conditions": [{"result": "FAIL", "rules": []}]});
    refused_creation(&w, d.clone(), "ValidationException", "conditions need V2");
    d["pipelineType"] = json!("V2");
    refused_creation(&w, d.clone(), "InvalidStageDeclarationException", "a condition has rules");
    d["stages"][1]["beforeEntry"] = json!({"conditions": [{"result": "FAIL", "rules": [{"name": "Alarm",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
        "configuration": {"AlarmName": "a"}}]}]});
    refused_creation(&w, d, "InvalidStageDeclarationException", "a rule needing CloudWatch is refused, not ignored");
    let mut d = two_stages("dupvars", true);
    d["variables"] = json!([{"name": "Env"}, {"name": "Env", "defaultValue": "x"}]);
    refused_creation(&w, d, "ValidationException", "a variable is declared once");
    let mut d = two_stages("dupns", true);
    d["stages"][0]["actions"][0]["namespace"] = json!("Src");
    d["stages"][1]["actions"][0]["namespace"] = json!("Src");
    refused_creation(&w, d, "InvalidActionDeclarationException", "a namespace belongs to one action");
    let mut d = two_stages("resns", true);
    d["stages"][1]["actions"][0]["namespace"] = json!("codepipeline");
    refused_creation(&w, d, "InvalidActionDeclarationException", "the codepipeline namespace is the pipeline's");

    // Members the model reserves for other action types.
    for (member, value) in [
        ("timeoutInMinutes", json!(10)),
        ("commands", json!(["make"])),
        ("outputVariables", json!(["X"])),
        ("environmentVariables", json!([{"name": "A", "value": "b"}])),
    ] {
        let mut d = two_stages("members", true);
        d["stages"][1]["actions"][0][member] = value;
        refused_creation(&w, d, "InvalidActionDeclarationException", member);
    }
    // A Manual approval's timeoutInMinutes replaces its 7 days.
    let approval = json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"});
    let mut d = two_stages("quick", false);
    d["stages"][1]["actions"] = json!([{"name": "Ok", "actionTypeId": approval, "timeoutInMinutes": 5}]);
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": d}), 0);
    let quick = start(&w, "quick", 0);
    run_custom(&w, "Source", "MySource", 0);
    w.svc.tick(super::domain::at(299)).expect("sweep");
    assert_eq!(w.status("quick", &quick), "InProgress");
    w.svc.tick(super::domain::at(301)).expect("sweep");
    assert_eq!(w.status("quick", &quick), "Failed", "5 minutes, not 7 days");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "quick"}), 302);
    assert_eq!(
        state["stageStates"][1]["actionStates"][0]["latestExecution"]["errorDetails"]["code"],
        "ApprovalExpired"
    );

    // An update that adds V2 features to a V1 pipeline changes nothing.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": two_stages("plain", false)}), 1);
    let mut d = two_stages("plain", false);
    d["variables"] = vars.clone();
    assert_eq!(w.err(CUSTOMER, "UpdatePipeline", json!({"pipeline": d}), 2), "ValidationException");
    let got = w.ok(CUSTOMER, "GetPipeline", json!({"name": "plain"}), 2);
    assert_eq!(got["pipeline"]["version"], 1);
    assert!(got["pipeline"].get("variables").is_none());

    // Variables at start: a V1 pipeline declares none, so it takes none.
    let with = |name: &str, v: Value| json!({"name": name, "variables": v});
    assert_eq!(
        w.err(CUSTOMER, "StartPipelineExecution", with("plain", json!([{"name": "Env", "value": "x"}])), 3),
        "ValidationException"
    );
    let none = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "plain"}), 3);
    assert_eq!(none["pipelineExecutionSummaries"], json!([]), "a refused start starts nothing");

    let mut d = two_stages("vars", true);
    d["variables"] = vars;
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": d}), 4);
    for (bad, why) in [
        (json!([{"name": "Nope", "value": "x"}, {"name": "Tag", "value": "t"}]), "an undeclared variable"),
        (json!([{"name": "Tag", "value": "a"}, {"name": "Tag", "value": "b"}]), "a variable given twice"),
        (json!([{"name": "Env", "value": "prod"}]), "Tag has no default and is left out"),
    ] {
        assert_eq!(w.err(CUSTOMER, "StartPipelineExecution", with("vars", bad), 5), "ValidationException", "{why}");
    }
    assert_eq!(w.err(CUSTOMER, "StartPipelineExecution", json!({"name": "vars"}), 5), "ValidationException");
    let none = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "vars"}), 5);
    assert_eq!(none["pipelineExecutionSummaries"], json!([]));
    let id = w.ok(CUSTOMER, "StartPipelineExecution", with("vars", json!([{"name": "Tag", "value": "v1.2"}])), 6)
        ["pipelineExecutionId"]
        .clone();
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "vars", "pipelineExecutionId": id}), 6);
    assert_eq!(
        got["pipelineExecution"]["variables"],
        json!([{"name": "Env", "resolvedValue": "dev"}, {"name": "Tag", "resolvedValue": "v1.2"}]),
        "defaults and the start's values, in declaration order"
    );

    // A result that goes on (continuationToken) carries no output variables.
    run_custom(&w, "Source", "MySource", 7);
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Build", "Maker")}), 8);
    let job = polled["jobs"][0].clone();
    let jid = job["id"].as_str().expect("a build job");
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": jid, "nonce": job["nonce"]}), 8);
    let both = json!({"jobId": jid, "continuationToken": "step-2", "outputVariables": {"V": "1"}});
    assert_eq!(w.err(CUSTOMER, "PutJobSuccessResult", both, 9), "ValidationException");
    let details = w.ok(CUSTOMER, "GetJobDetails", json!({"jobId": jid}), 9);
    assert_eq!(details["jobDetails"]["id"], jid, "the job is still there");
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": jid, "outputVariables": {"V": "1"}}), 10);
    assert_eq!(w.status("vars", id.as_str().expect("id")), "Succeeded");

    // The model gives third-party results no output variables: sent anyway, they are ignored.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("partner")}), 11);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "partner"}), 11);
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 11);
    let done = json!({"jobId": job, "clientToken": token, "outputVariables": {"V": "1"}, "continuationToken": "c"});
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", done, 11);
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 11);
    let done = json!({"jobId": job, "clientToken": token, "outputVariables": {"V": "1"}});
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", done, 11);
    let list = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "partner"}), 11);
    let fetch = &list["actionExecutionDetails"].as_array().expect("list").last().expect("the source")["output"];
    assert_eq!(fetch.get("outputVariables"), None, "{fetch}");
}

/// `DisableStageTransition` / `EnableStageTransition` input.
fn transition(pipeline: &str, stage: &str, kind: &str, reason: Option<&str>) -> Value {
    let mut v = json!({"pipelineName": pipeline, "stageName": stage, "transitionType": kind});
    if let Some(r) = reason {
        v["reason"] = json!(r);
    }
    v
}

/// The `inboundTransitionState` of stage `i` in the pipeline's state.
fn inbound<S: Store>(w: &World<S>, pipeline: &str, i: usize) -> Value {
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": pipeline}), 0);
    state["stageStates"][i].get("inboundTransitionState").cloned().unwrap_or(Value::Null)
}

/// Starts an execution of a `gated` pipeline and runs its source.
fn start_past_source<S: Store>(w: &World<S>, pipeline: &str, secs: u64) -> String {
    let id = start(w, pipeline, secs);
    run_custom(w, "Source", "MySource", secs);
    id
}

/// Whether the approval stage of the pipeline has an approval in progress.
fn approval_waits<S: Store>(w: &World<S>, pipeline: &str) -> bool {
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": pipeline}), 0);
    state["stageStates"][1]["actionStates"][0]["latestExecution"]["status"] == "InProgress"
}

pub(crate) fn stage_transitions<S: Store>(w: World<S>) {
    custom_source(&w);
    gated(&w, "tr", None);
    let dis = |stage: &str, kind: &str| transition("tr", stage, kind, Some("Waiting for QA"));

    // What names no transition, or no stage, or no pipeline.
    assert_eq!(w.err(CUSTOMER, "DisableStageTransition", dis("Source", "Inbound"), 1), "ValidationException");
    assert_eq!(w.err(CUSTOMER, "DisableStageTransition", dis("Approve", "Outbound"), 1), "ValidationException");
    assert_eq!(w.err(CUSTOMER, "DisableStageTransition", dis("Nope", "Inbound"), 1), "StageNotFoundException");
    let other = transition("nope", "Approve", "Inbound", Some("x"));
    assert_eq!(w.err(CUSTOMER, "DisableStageTransition", other, 1), "PipelineNotFoundException");
    assert_eq!(
        w.err(OTHER, "DisableStageTransition", dis("Approve", "Inbound"), 1),
        "PipelineNotFoundException",
        "another account's pipeline is not there"
    );
    assert_eq!(
        w.err(CUSTOMER, "EnableStageTransition", transition("tr", "Nope", "Inbound", None), 1),
        "StageNotFoundException"
    );
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "tr"}), 1);
    assert!(
        state["stageStates"][0].get("inboundTransitionState").is_none(),
        "no transition leads into the first stage"
    );
    assert_eq!(inbound(&w, "tr", 1), json!({"enabled": true}), "refusals changed nothing");

    // Disabled: shown with who, when and why; executions wait before the stage.
    w.ok(CUSTOMER, "DisableStageTransition", dis("Approve", "Inbound"), 2);
    assert_eq!(
        inbound(&w, "tr", 1),
        json!({"enabled": false, "lastChangedBy": format!("arn:aws:iam::{CUSTOMER}:root"),
               "lastChangedAt": 1_800_000_002.0, "disabledReason": "Waiting for QA"})
    );
    let a = start_past_source(&w, "tr", 3);
    assert_eq!(w.status("tr", &a), "InProgress");
    assert!(!approval_waits(&w, "tr"), "the execution did not enter the stage");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "tr"}), 3);
    assert_eq!(state["stageStates"][0]["latestExecution"]["status"], "Succeeded");
    assert!(state["stageStates"][1].get("latestExecution").is_none(), "nothing reached the held stage");
    // SUPERSEDED: a newer execution replaces the one waiting at the transition.
    let b = start_past_source(&w, "tr", 4);
    assert_eq!(w.status("tr", &a), "Superseded");
    assert_eq!(w.status("tr", &b), "InProgress");

    // Enabled from the other side (Outbound of the stage before): the waiter goes on.
    w.ok(CUSTOMER, "EnableStageTransition", transition("tr", "Source", "Outbound", None), 5);
    assert_eq!(
        inbound(&w, "tr", 1),
        json!({"enabled": true, "lastChangedBy": format!("arn:aws:iam::{CUSTOMER}:root"), "lastChangedAt": 1_800_000_005.0})
    );
    assert_eq!(approve(&w, "tr", 6), b);
    assert_eq!(w.status("tr", &b), "Succeeded");

    // An execution already past the transition is not held by disabling it.
    let c = start_past_source(&w, "tr", 7);
    w.ok(CUSTOMER, "DisableStageTransition", dis("Source", "Outbound"), 8);
    assert_eq!(approve(&w, "tr", 9), c);
    assert_eq!(w.status("tr", &c), "Succeeded");
    assert_eq!(inbound(&w, "tr", 1)["enabled"], false, "Outbound of Source is the inbound of Approve");

    // QUEUED: the oldest waiter goes first, the next once the stage frees.
    gated(&w, "tq", Some("QUEUED"));
    w.ok(CUSTOMER, "DisableStageTransition", transition("tq", "Approve", "Inbound", Some("hold")), 10);
    let q1 = start_past_source(&w, "tq", 11);
    let q2 = start_past_source(&w, "tq", 12);
    w.ok(CUSTOMER, "EnableStageTransition", transition("tq", "Approve", "Inbound", None), 13);
    assert_eq!(approve(&w, "tq", 14), q1);
    assert_eq!(approve(&w, "tq", 15), q2);
    assert_eq!((w.status("tq", &q1), w.status("tq", &q2)), ("Succeeded".into(), "Succeeded".into()));

    // PARALLEL: every waiter goes on at once.
    gated(&w, "tp", Some("PARALLEL"));
    w.ok(CUSTOMER, "DisableStageTransition", transition("tp", "Approve", "Inbound", Some("hold")), 20);
    let p1 = start_past_source(&w, "tp", 21);
    let p2 = start_past_source(&w, "tp", 22);
    let in_approval = |w: &World<S>| {
        let list = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "tp"}), 23);
        list["actionExecutionDetails"].as_array().expect("list").iter().filter(|d| d["actionName"] == "Ok").count()
    };
    assert_eq!(in_approval(&w), 0, "both wait at the transition");
    w.ok(CUSTOMER, "EnableStageTransition", transition("tp", "Approve", "Inbound", None), 23);
    assert_eq!(in_approval(&w), 2, "both entered the stage");
    for id in [&p1, &p2] {
        assert_eq!(w.status("tp", id), "InProgress");
    }

    // A pipeline made again under a deleted one's name starts with its transitions enabled.
    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "tr"}), 30);
    gated(&w, "tr", None);
    assert_eq!(inbound(&w, "tr", 1), json!({"enabled": true}));
}

/// A custom type of the customer with these configuration properties
/// (`(name, secret)`; every one optional), at most one input artifact.
fn custom_type<S: Store>(w: &World<S>, category: &str, provider: &str, properties: &[(&str, bool)]) {
    let properties: Vec<Value> = properties
        .iter()
        .map(|(name, secret)| json!({"name": name, "required": false, "key": false, "secret": secret}))
        .collect();
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": category, "provider": provider, "version": "1", "configurationProperties": properties,
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
               "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}}),
        0,
    );
}

/// An action of a custom type with a namespace and a configuration.
fn var_action(name: &str, provider: &str, category: &str, namespace: Option<&str>, configuration: Value) -> Value {
    let mut a = action(name, custom_id(category, provider), &[], &[], 1);
    a["configuration"] = configuration;
    if let Some(ns) = namespace {
        a["namespace"] = json!(ns);
    }
    a
}

/// Source (`Src`) -> Build (`BuildVariables`) -> Deploy, V2, with variables `Env` (default `dev`).
fn three_stages(name: &str, build: Value, deploy: Value) -> Value {
    let mut d = declaration(
        name,
        vec![
            ("Source", vec![var_action("Get", "MySource", "Source", Some("Src"), json!({}))]),
            ("Build", vec![var_action("Make", "Compiler", "Build", Some("BuildVariables"), build)]),
            ("Deploy", vec![var_action("Ship", "Shipper", "Deploy", None, deploy)]),
        ],
    );
    d["pipelineType"] = json!("V2");
    d["variables"] = json!([{"name": "Env", "defaultValue": "dev"}]);
    d
}

/// Polls and acknowledges one job of the customer's custom type; its id and data.
fn take_custom<S: Store>(w: &World<S>, category: &str, provider: &str, secs: u64) -> (String, Value) {
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id(category, provider)}), secs);
    let job = polled["jobs"][0].clone();
    let id = job["id"].as_str().unwrap_or_else(|| panic!("a {provider} job: {polled}")).to_owned();
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": id, "nonce": job["nonce"]}), secs);
    (id, job["data"].clone())
}

pub(crate) fn variables_reach_later_jobs_resolved<S: Store>(w: World<S>) {
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": "Source", "provider": "MySource", "version": "1",
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
               "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}}),
        0,
    );
    custom_type(&w, "Build", "Compiler", &[("Project", false), ("Flags", false)]);
    custom_type(&w, "Deploy", "Shipper", &[("Target", false), ("Token", true)]);
    let build = json!({"Project": "app-#{variables.Env}", "Flags": "--run #{codepipeline.PipelineExecutionId} --commit #{Src.CommitId}"});
    let deploy = json!({"Target": "#{BuildVariables.Image}@#{variables.Env}", "Token": "t-#{variables.Env}"});

    // References are checked when the pipeline is saved.
    for (b, d, why) in [
        (json!({"Project": "#{variables.Nope}"}), json!({}), "an undeclared pipeline variable"),
        (json!({"Project": "#{codepipeline.Nope}"}), json!({}), "no such variable of codepipeline"),
        (json!({"Project": "#{Elsewhere.X}"}), json!({}), "a namespace no action has"),
        (json!({"Project": "#{BuildVariables.X}"}), json!({}), "its own namespace: it does not run before itself"),
        (json!({}), json!({}), "a later stage's namespace"),
    ] {
        let mut decl = three_stages("refs", b, d);
        if why == "a later stage's namespace" {
            decl["stages"][1]["actions"][0]["configuration"] = json!({"Project": "#{Ship.X}"});
            decl["stages"][2]["actions"][0]["namespace"] = json!("Ship");
        }
        assert_eq!(
            w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0),
            "InvalidActionDeclarationException",
            "{why}"
        );
    }
    let mut parallel = three_stages("refs", json!({}), json!({}));
    parallel["stages"][1]["actions"] = json!([
        var_action("A", "Compiler", "Build", Some("First"), json!({})),
        var_action("B", "Compiler", "Build", None, json!({"Project": "#{First.X}"})),
    ]);
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": parallel.clone()}), 0),
        "InvalidActionDeclarationException",
        "an action of the same run order runs alongside, not before"
    );
    parallel["stages"][1]["actions"][1]["runOrder"] = json!(2);
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": parallel}), 0);

    // A variable set at start, the source's output variable and the build's reach later jobs resolved.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": three_stages("vars", build.clone(), deploy.clone())}), 1);
    let prod = json!({"name": "vars", "variables": [{"name": "Env", "value": "prod"}]});
    let exec =
        w.ok(CUSTOMER, "StartPipelineExecution", prod, 2)["pipelineExecutionId"].as_str().expect("id").to_owned();
    let (src, _) = take_custom(&w, "Source", "MySource", 3);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": src, "outputVariables": {"CommitId": "abc123"}}), 3);
    let (make, data) = take_custom(&w, "Build", "Compiler", 4);
    assert_eq!(
        data["actionConfiguration"]["configuration"],
        json!({"Project": "app-prod", "Flags": format!("--run {exec} --commit abc123")})
    );
    let details = w.ok(CUSTOMER, "GetJobDetails", json!({"jobId": make}), 4);
    assert_eq!(details["jobDetails"]["data"]["actionConfiguration"], data["actionConfiguration"]);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": make, "outputVariables": {"Image": "img-7"}}), 5);
    let (ship, data) = take_custom(&w, "Deploy", "Shipper", 6);
    assert_eq!(data["actionConfiguration"]["configuration"], json!({"Target": "img-7@prod", "Token": "t-prod"}));
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": ship}), 7);
    assert_eq!(w.status("vars", &exec), "Succeeded");

    // Reported where AWS reports them; the secret stays masked, resolved or not.
    let filter = json!({"pipelineName": "vars", "filter": {"pipelineExecutionId": exec}});
    let list = w.ok(CUSTOMER, "ListActionExecutions", filter, 8);
    let of = |name: &str| {
        list["actionExecutionDetails"]
            .as_array()
            .expect("list")
            .iter()
            .find(|d| d["actionName"] == name)
            .cloned()
            .expect(name)
    };
    let made = of("Make");
    assert_eq!(made["input"]["configuration"], build);
    assert_eq!(made["input"]["resolvedConfiguration"]["Project"], "app-prod");
    assert_eq!(made["input"]["namespace"], "BuildVariables");
    assert_eq!(made["output"]["outputVariables"], json!({"Image": "img-7"}));
    let shipped = of("Ship");
    assert_eq!(shipped["input"]["configuration"]["Token"], "****");
    assert_eq!(shipped["input"]["resolvedConfiguration"], json!({"Target": "img-7@prod", "Token": "****"}));
    assert_eq!(of("Get")["output"]["outputVariables"], json!({"CommitId": "abc123"}));
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "vars", "pipelineExecutionId": exec}), 8);
    assert_eq!(got["pipelineExecution"]["variables"], json!([{"name": "Env", "resolvedValue": "prod"}]));

    // A variable the upstream action did not produce fails the action that needs it; no job is made.
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "vars"}), 10)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let (src, _) = take_custom(&w, "Source", "MySource", 11);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": src, "outputVariables": {"CommitId": "def"}}), 11);
    let (make, data) = take_custom(&w, "Build", "Compiler", 12);
    assert_eq!(data["actionConfiguration"]["configuration"]["Project"], "app-dev", "the default");
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": make, "outputVariables": {"Other": "x"}}), 12);
    assert_eq!(w.status("vars", &exec), "Failed");
    let none = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Deploy", "Shipper")}), 13);
    assert_eq!(none["jobs"], json!([]));
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "vars"}), 13);
    let failed = &state["stageStates"][2]["actionStates"][0]["latestExecution"];
    assert_eq!(failed["status"], "Failed", "{state}");
    assert_eq!(failed["errorDetails"]["code"], "ConfigurationError");
    assert!(failed["errorDetails"]["message"].as_str().expect("message").contains("#{BuildVariables.Image}"));

    // In a secret property the failure names the property, never what its value holds.
    let deploy = json!({"Target": "x", "Token": "s3cr3t-#{BuildVariables.Hidden}"});
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": three_stages("sec", build, deploy)}), 20);
    let exec = start(&w, "sec", 20);
    let (src, _) = take_custom(&w, "Source", "MySource", 21);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": src, "outputVariables": {"CommitId": "c"}}), 21);
    let (make, _) = take_custom(&w, "Build", "Compiler", 22);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": make, "outputVariables": {"Image": "i"}}), 22);
    assert_eq!(w.status("sec", &exec), "Failed");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "sec"}), 23);
    let message = state["stageStates"][2]["actionStates"][0]["latestExecution"]["errorDetails"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(message.contains("secret property 'Token'"), "{message}");
    assert!(!message.contains("Hidden") && !message.contains("s3cr3t"), "{message}");
}
