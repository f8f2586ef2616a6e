//! The frame of every console page (head, header with the signed-in account
//! and sign-out, main), the live region the script refreshes, error pages,
//! and the embedded stylesheet and script.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cpjobs_core::ApiError;
use maud::{DOCTYPE, Markup, html};

use super::calls::SignedIn;

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/live.js");

/// A whole page: `crumbs` are (link, text) pairs leading to it, then `title`.
pub(crate) fn page(who: Option<&SignedIn>, crumbs: &[(String, &str)], title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · cpjobs console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/live.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/console/pipelines" { "cpjobs console" }
                    @if who.is_some() {
                        nav.sections aria-label="Console" {
                            a href="/console/pipelines" aria-current=[(title == "Pipelines").then_some("page")] { "Pipelines" }
                            a href="/console/jobs" aria-current=[(title == "Jobs and workers").then_some("page")] { "Jobs and workers" }
                        }
                    }
                    @if let Some(who) = who {
                        span.who { "Account " strong { (who.caller.account_id) } }
                        form.signout method="post" action="/console/signout" {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    @if !crumbs.is_empty() {
                        nav aria-label="Breadcrumb" {
                            ol.crumbs {
                                @for (href, text) in crumbs { li { a href=(href) { (text) } } }
                                li aria-current="page" { (title) }
                            }
                        }
                    }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The region the script refreshes from `src` (the page's own address with
/// `?live=1`, which answers this region alone).
pub(crate) fn live(src: &str, content: Markup) -> Markup {
    html! { div #live data-src=(src) { (content) } }
}

/// A page, or its live region alone when the request asked only for that.
pub(crate) fn answer(live_only: bool, live_part: Markup, whole: impl FnOnce(Markup) -> Markup) -> Response {
    if live_only {
        Html(live_part.into_string()).into_response()
    } else {
        Html(whole(live_part).into_string()).into_response()
    }
}

/// An error page with `status`.
pub(crate) fn refused(status: StatusCode, message: &str) -> Response {
    let body = html! {
        p.error role="alert" { (message) }
        p { a href="/console/pipelines" { "Back to the pipelines" } }
    };
    (status, Html(page(None, &[], "Not done", body).into_string())).into_response()
}

/// An API refusal as a page: its code and message, with the HTTP status the
/// API would answer (404 for things the account does not have).
pub(crate) fn api_error(e: &ApiError) -> Response {
    let status = if e.code.as_str().ends_with("NotFoundException") {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    refused(status, &format!("{}: {}", e.code, e.message))
}

/// `/` and `/console/` lead to the pipelines (or, signed out, on to sign-in).
pub(crate) async fn to_home() -> Redirect {
    Redirect::to("/console/pipelines")
}

/// Anything the console does not serve.
pub(crate) async fn not_found() -> Response {
    refused(StatusCode::NOT_FOUND, "The console has no such page.")
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Assets change only with the binary; an hour keeps pages quick without stale releases lingering.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    resp
}

/// The embedded stylesheet.
pub(crate) async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// The embedded live-update script.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
