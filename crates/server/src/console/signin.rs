//! Signing in with an access key id and its secret (checked as the SigV4
//! verifier knows them, in constant time), and signing out. Neither the
//! secret nor the cookie is ever logged or written back into a page.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::Console;
use super::layout;
use super::session::{self, SESSION_COOKIE, SIGNIN_COOKIE, SIGNIN_TTL};

/// The sign-in form's fields; missing ones are empty, so a form without its
/// token is refused as such (403) rather than as malformed.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    secret_access_key: String,
    #[serde(default)]
    csrf: String,
}

/// A form with nothing but its CSRF token (sign-out).
#[derive(Deserialize)]
pub(crate) struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

fn form_page(status: StatusCode, token: &str, message: Option<&str>, set: Option<String>) -> Response {
    let body = html! {
        @if let Some(m) = message { p.error role="alert" { (m) } }
        form.signin method="post" action="/console/signin" {
            input type="hidden" name="csrf" value=(token);
            label for="akid" { "Access key ID" }
            input #akid type="text" name="access_key_id" autocomplete="username" required autofocus spellcheck="false";
            label for="secret" { "Secret access key" }
            input #secret type="password" name="secret_access_key" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.hint { "Use the keys of an account this service knows (" code { "cpjobs dev-env" } " prints the development account's)." }
    };
    let mut resp = (status, Html(layout::page(None, &[], "Sign in", body).into_string())).into_response();
    if let Some(cookie) = set.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

/// `GET /console/signin`: the form, bound to a fresh sign-in cookie.
pub(crate) async fn form(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if console.signed_in(&headers).is_ok() {
        return Redirect::to("/console/pipelines").into_response();
    }
    let value = session::random_id();
    let token = console.sessions.signin_token(&value);
    form_page(StatusCode::OK, &token, None, Some(session::set_cookie(SIGNIN_COOKIE, &value, SIGNIN_TTL)))
}

/// `POST /console/signin`: a session for a principal whose secret matches.
pub(crate) async fn submit(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let bound = session::cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if !console.sessions.signin_ok(bound, &f.csrf) {
        return layout::refused(
            StatusCode::FORBIDDEN,
            "This sign-in form has expired or did not come from this console. Open the sign-in page again.",
        );
    }
    let known = console.principals.get(&f.access_key_id);
    // Compared even for an unknown key, so the time taken tells nothing of which keys exist.
    let secret = known.map_or("", |(_, s)| s.as_str());
    let matches: bool = secret.as_bytes().ct_eq(f.secret_access_key.as_bytes()).into();
    let Some((account, _)) = known.filter(|_| matches && !secret.is_empty()) else {
        tracing::debug!("console sign-in refused: unknown access key id or wrong secret");
        return form_page(
            StatusCode::UNAUTHORIZED,
            &f.csrf,
            Some("The access key ID or the secret access key is not right."),
            None,
        );
    };
    let (_, cookie) = console.sessions.issue(account, &f.access_key_id, (console.clock)());
    tracing::info!(account = %account, "console sign-in");
    let mut resp = Redirect::to("/console/pipelines").into_response();
    let h = resp.headers_mut();
    for c in [
        session::set_cookie(SESSION_COOKIE, &cookie, console.sessions.ttl()),
        session::set_cookie(SIGNIN_COOKIE, "", std::time::Duration::ZERO),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// `POST /console/signout`: the session ends here and everywhere its cookie was copied.
pub(crate) async fn sign_out(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(f): Form<TokenOnly>,
) -> Response {
    let who = match console.signed_in_form(&headers, &f.csrf) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    console.sessions.revoke(&who.session, (console.clock)());
    let mut resp = Redirect::to("/console/signin").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(SESSION_COOKIE, "", std::time::Duration::ZERO)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
