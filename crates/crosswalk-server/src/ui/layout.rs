//! The page frame every UI page shares, and the small pieces pages reuse.

use axum::http::StatusCode;
use crosswalk_core::Resolution;
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;

use super::session::SignedIn;

/// A whole page: the skip link first, then the header (where you are, who is signed in,
/// sign out), then `body` in `<main>`. `crumbs` are (label, link) pairs leading to this page.
pub fn frame(
    title: &str,
    signed_in: Option<&SignedIn>,
    crumbs: &[(String, String)],
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Crosswalk" }
                link rel="stylesheet" href="/ui/assets/style.css";
                script src="/ui/assets/app.js" defer {}
            }
            body {
                a.skip-link href="#main" { "Skip to content" }
                header.site {
                    a.brand href="/ui/" { "Crosswalk" }
                    @if !crumbs.is_empty() {
                        nav aria-label="Breadcrumb" {
                            ol.crumbs {
                                li { a href="/ui/" { "Scopes" } }
                                @for (index, (label, link)) in crumbs.iter().enumerate() {
                                    li {
                                        @if index + 1 == crumbs.len() {
                                            a href=(link) aria-current="page" { (label) }
                                        } @else {
                                            a href=(link) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(signed_in) = signed_in {
                        div.who {
                            span { (who(signed_in)) }
                            form.sign-out method="post" action="/ui/sign-out" {
                                (csrf_field(signed_in))
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// Who is signed in, in a few words: the token's role, public id and scope.
fn who(signed_in: &SignedIn) -> String {
    let token = &signed_in.principal.token;
    match &token.scope {
        None => format!("Instance admin token {}", token.public_id),
        Some(scope) => format!("{} token {} of scope {scope}", token.role, token.public_id),
    }
}

/// The hidden field every form that posts carries; the guard checks it.
pub fn csrf_field(signed_in: &SignedIn) -> Markup {
    html! { input type="hidden" name="_csrf" value=(signed_in.csrf); }
}

/// A page saying what went wrong and what to do, with the status as its heading.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Refused",
        StatusCode::BAD_REQUEST => "Not understood",
        _ if status.is_server_error() => "Something went wrong",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    frame(
        heading,
        None,
        &[],
        html! {
            h1 { (heading) }
            p.problem role="alert" { (message) }
            p { a href="/ui/" { "Back to the scopes" } }
        },
    )
}

/// Text as one path segment of a link (a key may hold `/`, `?`, `#` or spaces).
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// A date and time as a person reads it, in UTC.
pub fn when(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// A resolution as a small coloured label (the colour is the bar chart's).
pub fn resolution_badge(resolution: &str) -> Markup {
    html! { span class={ "badge res-" (resolution.to_ascii_lowercase()) } { (resolution) } }
}

/// Thousandths as a percentage.
pub fn percent(thousandths: u16) -> String {
    format!("{:.1} %", f64::from(thousandths) / 10.0)
}

/// How many mappings have each resolution, as a horizontal bar chart in inline SVG (no
/// script, no library; the bars' colours come from the stylesheet). Its text alternative
/// lists every count; resolutions with none are left out.
pub fn bar_chart(counts: &[(Resolution, u64)], caption: &str) -> Markup {
    let shown: Vec<(Resolution, u64)> = counts
        .iter()
        .copied()
        .filter(|(_, count)| *count > 0)
        .collect();
    let most = shown
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    const ROW: u64 = 24;
    const LABEL: u64 = 110;
    const BAR: u64 = 360;
    let height = ROW * shown.len().max(1) as u64;
    let summary: Vec<String> = shown
        .iter()
        .map(|(resolution, count)| format!("{} {count}", resolution.as_str()))
        .collect();
    let label = if summary.is_empty() {
        format!("{caption}: none")
    } else {
        format!("{caption}: {}", summary.join(", "))
    };
    html! {
        figure.chart #resolution-chart {
            figcaption { (caption) }
            @if shown.is_empty() {
                p { "No mappings." }
            } @else {
                svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
                    viewBox={ "0 0 " (LABEL + BAR + 80) " " (height) } width=(LABEL + BAR + 80) height=(height) {
                    @for (index, (resolution, count)) in shown.iter().enumerate() {
                        @let y = index as u64 * ROW;
                        @let width = (count * BAR).div_ceil(most).max(2);
                        g class={ "bar res-" (resolution.as_str().to_ascii_lowercase()) } data-resolution=(resolution.as_str()) {
                            text x="0" y=(y + 16) { (resolution.as_str()) }
                            rect x=(LABEL) y=(y + 4) width=(width) height=(ROW - 8) rx="2" {}
                            text.count x=(LABEL + width + 6) y=(y + 16) { (count) }
                        }
                    }
                }
            }
        }
    }
}

/// Links to a scope's review queue, re-attribution list and webhooks (on the scope's page).
pub fn scope_nav(scope: &str) -> Markup {
    html! {
        nav.scope-nav aria-label="This scope" {
            a #nav-review href=(super::review::review_link(scope)) { "Review suggestions" }
            a #nav-reattribution href=(super::items::reattribution_link(scope)) { "Re-attribution list" }
            a #nav-scim-conflicts href=(super::scim::conflicts_link(scope)) { "SCIM conflicts" }
            a #nav-webhooks href=(super::webhooks::webhooks_link(scope)) { "Webhooks" }
        }
    }
}
