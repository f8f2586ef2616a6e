//! Who is signed in, and the API calls the console makes for them: the
//! operation's input checked against the model (as the JSON API checks it),
//! then [`Api::call`](cpjobs_core::Api::call) on a blocking thread with the
//! signed-in account as the caller.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cpjobs_core::{ApiError, Caller, Operation};
use serde_json::Value;

use super::Console;
use super::layout;
use super::session::{self, Session};

/// The signed-in user of a request.
pub(crate) struct SignedIn {
    /// Their session.
    pub(crate) session: Session,
    /// The caller the API sees.
    pub(crate) caller: Caller,
    /// The CSRF token their forms carry.
    pub(crate) csrf: String,
}

/// Why a request gets no further than [`Console::signed_in`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No live session: to the sign-in page.
    SignedOut,
    /// A form without its session's CSRF token: 403.
    BadToken,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignedOut => Redirect::to("/console/signin").into_response(),
            Refusal::BadToken => layout::refused(
                axum::http::StatusCode::FORBIDDEN,
                "This form has expired or did not come from this console. Reload the page and try again.",
            ),
        }
    }
}

/// The most pages of a list the console reads for one page of its own.
const MAX_PAGES: usize = 20;

impl Console {
    /// The signed-in user, or a redirect to the sign-in page. A session whose
    /// access key the configuration no longer has (or gives another account) is over.
    pub(crate) fn signed_in(&self, headers: &HeaderMap) -> Result<SignedIn, Refusal> {
        let now = (self.clock)();
        let session = session::cookie(headers, session::SESSION_COOKIE)
            .and_then(|v| self.sessions.check(v, now))
            .filter(|s| self.principals.get(&s.access_key_id).is_some_and(|(account, _)| *account == s.account_id));
        match session {
            Some(session) => {
                let caller =
                    Caller { account_id: session.account_id.clone(), access_key_id: session.access_key_id.clone() };
                let csrf = self.sessions.csrf(&session);
                Ok(SignedIn { session, caller, csrf })
            }
            None => Err(Refusal::SignedOut),
        }
    }

    /// [`signed_in`](Console::signed_in) for a form: its CSRF token must be
    /// the session's, else 403 and nothing is done.
    pub(crate) fn signed_in_form(&self, headers: &HeaderMap, token: &str) -> Result<SignedIn, Refusal> {
        let who = self.signed_in(headers)?;
        if !self.sessions.csrf_ok(&who.session, token) {
            tracing::debug!(account = %who.caller.account_id, "console form refused: CSRF token missing or wrong");
            return Err(Refusal::BadToken);
        }
        Ok(who)
    }

    /// Runs `operation` for `who`, as the JSON API would.
    pub(crate) async fn call(
        self: &Arc<Self>,
        who: &SignedIn,
        operation: Operation,
        input: Value,
    ) -> Result<Value, ApiError> {
        self.validator.check_operation(operation, &input)?;
        let (api, caller, now) = (Arc::clone(&self.api), who.caller.clone(), (self.clock)());
        match tokio::task::spawn_blocking(move || api.call(&caller, operation, input, now)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "the domain panicked under the console");
                Err(ApiError::internal("Internal service error"))
            }
        }
    }

    /// Runs `operation` once per input for `who`, in one trip to a blocking
    /// thread (a page of 1,000 pipelines asks 1,000 questions): the answers in order.
    pub(crate) async fn call_each(
        self: &Arc<Self>,
        who: &SignedIn,
        operation: Operation,
        inputs: Vec<Value>,
    ) -> Result<Vec<Result<Value, ApiError>>, ApiError> {
        for input in &inputs {
            self.validator.check_operation(operation, input)?;
        }
        let (api, caller, now) = (Arc::clone(&self.api), who.caller.clone(), (self.clock)());
        let run = move || inputs.into_iter().map(|i| api.call(&caller, operation, i, now)).collect();
        tokio::task::spawn_blocking(run).await.map_err(|e| {
            tracing::error!(error = %e, "the domain panicked under the console");
            ApiError::internal("Internal service error")
        })
    }

    /// Every item of a paged list (`key`), following `nextToken` for up to [`MAX_PAGES`] pages.
    pub(crate) async fn call_all(
        self: &Arc<Self>,
        who: &SignedIn,
        operation: Operation,
        input: Value,
        key: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut input = input;
        for _ in 0..MAX_PAGES {
            let mut out = self.call(who, operation, input.clone()).await?;
            if let Some(Value::Array(page)) = out.get_mut(key).map(Value::take) {
                items.extend(page);
            }
            match out.get("nextToken").and_then(Value::as_str) {
                Some(t) => input["nextToken"] = Value::String(t.to_owned()),
                None => break,
            }
        }
        Ok(items)
    }
}

/// Whether the request asks only for the page's live region (`?live=1`).
pub(crate) fn live_only(uri: &axum::http::Uri) -> bool {
    uri.query().is_some_and(|q| q.split('&').any(|p| p == "live=1"))
}

/// What every page handler starts with: who is signed in (else the
/// request is answered with the way to sign in, before the handler runs),
/// and whether it asks only for the live region.
pub(crate) struct Viewer {
    /// The signed-in user.
    pub(crate) who: SignedIn,
    /// `?live=1`: answer the live region alone.
    pub(crate) live_only: bool,
}

impl FromRequestParts<Arc<Console>> for Viewer {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Viewer, Refusal> {
        let who = console.signed_in(&parts.headers)?;
        Ok(Viewer { who, live_only: live_only(&parts.uri) })
    }
}
