//! The job worker's side of the CodePipeline API, over the CLI's signing
//! client (credentials from the AWS chain, AWS CLI's retries): polls,
//! acknowledgements, details and results for `ThirdParty` and `Custom`
//! action types, and the client tokens of third-party jobs, found through the
//! service's extension `Cpjobs_20261129.ListThirdPartyClients` and cached.

use std::collections::HashMap;
use std::sync::Mutex;

use cpjobs_cli::args::GlobalArgs;
use cpjobs_cli::config::Session;
use cpjobs_cli::transport::Client;
use serde_json::{Value, json};

/// The `X-Amz-Target` prefix of cpjobs's own operations.
const CPJOBS_PREFIX: &str = "Cpjobs_20261129";

/// A failed API call: the AWS error code when the service answered one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The error code (`InvalidNonceException`), if the service sent one.
    pub code: Option<String>,
    /// What AWS CLI would print.
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Which kind of action type the worker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Partner action types (`PollForThirdPartyJobs` and friends, client tokens).
    ThirdParty,
    /// The account's own action types (`PollForJobs` and friends).
    Custom,
}

/// One job as a poll hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    /// Job id.
    pub id: String,
    /// Third-party jobs: the client id; custom jobs: none.
    pub client_id: Option<String>,
    /// Custom jobs: the nonce and data the poll returned.
    pub nonce: Option<String>,
    /// Custom jobs: the job data.
    pub data: Option<Value>,
}

/// The API for one action type.
pub struct JobApi {
    client: Client,
    extension: Client,
    owner: Owner,
    action_type_id: Value,
    query_param: serde_json::Map<String, Value>,
    tokens: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for JobApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobApi").field("owner", &self.owner).field("action_type_id", &self.action_type_id).finish()
    }
}

fn failure(e: cpjobs_cli::CliError) -> ApiFailure {
    let message = e.stderr.trim().to_owned();
    // AWS CLI's words: "An error occurred (Code) when calling ...".
    let code = message
        .split_once("An error occurred (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(code, _)| code.to_owned());
    ApiFailure { code, message }
}

impl JobApi {
    /// Clients for `session` (endpoint, region, credentials as AWS CLI resolves them).
    pub fn new(session: &Session, globals: &GlobalArgs, owner: Owner, action_type_id: Value) -> Result<JobApi, String> {
        let err = |e: cpjobs_cli::CliError| e.stderr.trim().to_owned();
        let client = Client::new(session, globals).map_err(err)?;
        // The extension client signs and routes exactly as the main one; only the target prefix differs.
        let meta = &cpjobs_model::ServiceModel::codepipeline().metadata;
        let extension = Client::for_service(session, globals, &meta.endpoint_prefix, CPJOBS_PREFIX, &meta.service_id)
            .map_err(err)?;
        Ok(JobApi {
            client,
            extension,
            owner,
            action_type_id,
            query_param: serde_json::Map::new(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// PollForJobs' `queryParam` (empty: none sent).
    pub fn set_query_param(&mut self, query_param: serde_json::Map<String, Value>) {
        self.query_param = query_param;
    }

    /// The URL the API is called at.
    pub fn url(&self) -> &str {
        self.client.url()
    }

    fn call(&self, client: &Client, op: &str, body: Value) -> Result<Value, ApiFailure> {
        let resp = client.invoke(op, &body.to_string()).map_err(failure)?;
        if resp.body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&resp.body)
            .map_err(|e| ApiFailure { code: None, message: format!("{op}: the answer is not JSON: {e}") })
    }

    /// Polls for up to `max` jobs.
    pub fn poll(&self, max: usize) -> Result<Vec<Polled>, ApiFailure> {
        let mut body = json!({"actionTypeId": self.action_type_id, "maxBatchSize": max.clamp(1, 100)});
        if self.owner == Owner::Custom && !self.query_param.is_empty() {
            body["queryParam"] = Value::Object(self.query_param.clone());
        }
        let op = match self.owner {
            Owner::ThirdParty => "PollForThirdPartyJobs",
            Owner::Custom => "PollForJobs",
        };
        let out = self.call(&self.client, op, body)?;
        let jobs = out.get("jobs").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(jobs
            .into_iter()
            .filter_map(|j| {
                let s = |k: &str| j.get(k).and_then(Value::as_str).map(str::to_owned);
                Some(match self.owner {
                    Owner::ThirdParty => Polled { id: s("jobId")?, client_id: s("clientId"), nonce: None, data: None },
                    Owner::Custom => {
                        Polled { id: s("id")?, client_id: None, nonce: s("nonce"), data: j.get("data").cloned() }
                    }
                })
            })
            .collect())
    }

    /// The client token of a third-party client, from the cache or the service.
    pub fn client_token(&self, client_id: &str) -> Result<String, ApiFailure> {
        if let Some(t) = self.tokens.lock().expect("token cache").get(client_id) {
            return Ok(t.clone());
        }
        let mut next: Option<String> = None;
        loop {
            let mut body = json!({"actionTypeId": self.action_type_id});
            if let Some(n) = &next {
                body["nextToken"] = json!(n);
            }
            let out = self.call(&self.extension, "ListThirdPartyClients", body)?;
            let mut cache = self.tokens.lock().expect("token cache");
            for c in out.get("clients").and_then(Value::as_array).into_iter().flatten() {
                if let (Some(id), Some(token)) =
                    (c.get("clientId").and_then(Value::as_str), c.get("clientToken").and_then(Value::as_str))
                {
                    cache.insert(id.to_owned(), token.to_owned());
                }
            }
            if let Some(t) = cache.get(client_id) {
                return Ok(t.clone());
            }
            match out.get("nextToken").and_then(Value::as_str) {
                Some(n) => next = Some(n.to_owned()),
                None => {
                    return Err(ApiFailure {
                        code: None,
                        message: format!(
                            "client {client_id} is not among this partner's clients (ListThirdPartyClients)"
                        ),
                    });
                }
            }
        }
    }

    /// `Get(ThirdParty)JobDetails`: the job details (`data`, and for third-party jobs the `nonce`).
    pub fn details(&self, job_id: &str, client_token: Option<&str>) -> Result<Value, ApiFailure> {
        let out = match client_token {
            Some(t) => {
                self.call(&self.client, "GetThirdPartyJobDetails", json!({"jobId": job_id, "clientToken": t}))?
            }
            None => self.call(&self.client, "GetJobDetails", json!({"jobId": job_id}))?,
        };
        Ok(out.get("jobDetails").cloned().unwrap_or(Value::Null))
    }

    /// `Acknowledge(ThirdParty)Job`: returns the job's status.
    pub fn acknowledge(&self, job_id: &str, nonce: &str, client_token: Option<&str>) -> Result<String, ApiFailure> {
        let out = match client_token {
            Some(t) => self.call(
                &self.client,
                "AcknowledgeThirdPartyJob",
                json!({"jobId": job_id, "nonce": nonce, "clientToken": t}),
            )?,
            None => self.call(&self.client, "AcknowledgeJob", json!({"jobId": job_id, "nonce": nonce}))?,
        };
        Ok(out.get("status").and_then(Value::as_str).unwrap_or_default().to_owned())
    }

    /// `Put(ThirdParty)JobSuccessResult`.
    pub fn succeed(
        &self,
        job_id: &str,
        client_token: Option<&str>,
        details: Value,
        continuation: Option<&str>,
        output_variables: Option<Value>,
    ) -> Result<(), ApiFailure> {
        let mut body = json!({"jobId": job_id, "executionDetails": details});
        // Only PutJobSuccessResult has outputVariables (the caller leaves them out for third-party jobs).
        if let Some(v) = output_variables {
            body["outputVariables"] = v;
        }
        if let Some(c) = continuation {
            body["continuationToken"] = json!(c);
        }
        let op = match client_token {
            Some(t) => {
                body["clientToken"] = json!(t);
                "PutThirdPartyJobSuccessResult"
            }
            None => "PutJobSuccessResult",
        };
        self.call(&self.client, op, body).map(drop)
    }

    /// `Put(ThirdParty)JobFailureResult` with `failureDetails` of type `JobFailed`.
    pub fn fail(
        &self,
        job_id: &str,
        client_token: Option<&str>,
        message: &str,
        run_id: &str,
    ) -> Result<(), ApiFailure> {
        let mut body = json!({
            "jobId": job_id,
            "failureDetails": {"type": "JobFailed", "message": message, "externalExecutionId": run_id},
        });
        let op = match client_token {
            Some(t) => {
                body["clientToken"] = json!(t);
                "PutThirdPartyJobFailureResult"
            }
            None => "PutJobFailureResult",
        };
        self.call(&self.client, op, body).map(drop)
    }
}
