//! The operator's dashboard, rendered on the server: HTML with SVG charts (participation over
//! time, by district, by age band) and a table beside each chart, no script at all, one
//! stylesheet allowed by its hash. Every text from a report (a district's name comes from
//! credentials, a rule from the configuration) is escaped.

use std::sync::OnceLock;

use base64::Engine as _;

use civic_credential::encoding::sha256;
use civic_service::html::escape;
use civic_verifier::analytics::publish::View;
use civic_verifier::analytics::report::Report;

/// The page's only style sheet (inline; allowed by its hash in the CSP).
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;\
padding:0 1rem;color:#1b1b1b}table{border-collapse:collapse;margin:.5rem 0 1.5rem}\
th,td{border:1px solid #bbb;padding:.25rem .6rem;text-align:left}td.n{text-align:right}\
figure{margin:1rem 0}svg{max-width:100%;height:auto}.note{color:#444}.err{color:#a00}\
form.inline{display:inline}";

/// The dashboard's Content-Security-Policy: nothing but the style sheet above, forms to this
/// service, no framing.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(sha256(STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(title)
    )
}

/// The sign-in page: the platform's API key in a POST form (never in a URL), `error` above it.
pub fn login(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"err\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    page(
        "Engagement dashboard: sign in",
        &format!(
            "<h1>Engagement dashboard</h1>{error}\
             <form method=\"post\" action=\"/v1/analytics/dashboard/login\">\
             <label for=\"api_key\">Platform API key</label> \
             <input id=\"api_key\" name=\"api_key\" type=\"password\" autocomplete=\"off\" required> \
             <button type=\"submit\">Sign in</button></form>\
             <p class=\"note\">The key is kept in a cookie only this service reads (HttpOnly, \
             SameSite=Strict) for 8 hours, or until you sign out.</p>"
        ),
    )
}

/// An error page (bad dates, a range too long) with the range form again.
pub fn error(message: &str, from: &str, to: &str) -> String {
    page(
        "Engagement dashboard",
        &format!(
            "<h1>Engagement dashboard</h1><p class=\"err\" role=\"alert\">{}</p>{}",
            escape(message),
            range_form(from, to)
        ),
    )
}

fn range_form(from: &str, to: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/v1/analytics/dashboard\">\
         <label for=\"from\">From</label> <input id=\"from\" name=\"from\" type=\"date\" value=\"{}\"> \
         <label for=\"to\">to</label> <input id=\"to\" name=\"to\" type=\"date\" value=\"{}\"> \
         <button type=\"submit\">Show</button></form>",
        escape(from),
        escape(to)
    )
}

/// The dashboard of `report` for the platform named `name`.
pub fn render(name: &str, report: &Report) -> String {
    let noise = match &report.noise {
        Some(n) => format!(
            "Each figure carries {} noise of scale {:.2} (ε = {} per resident and day, {:.3} per \
             view; standard deviation {:.1}; δ = {:.4}).",
            escape(&n.mechanism),
            n.scale,
            n.epsilon,
            n.epsilon_per_view,
            n.std_dev,
            n.delta
        ),
        None => "Figures are exact (no noise configured).".to_owned(),
    };
    let csv = format!(
        "/v1/analytics/dashboard/report.csv?from={}&amp;to={}",
        escape(&report.from),
        escape(&report.to)
    );
    let body = format!(
        "<h1>Engagement: {name}</h1>\
         <p>{from} to {to}. No figure counts fewer than k = {k} residents; smaller groups are \
         merged into “other” or not shown. A resident counts once per day. {noise} A day's \
         figures appear once the day is over.</p>{form}\
         <p><a href=\"{csv}\" download>Download CSV</a> \
         <form class=\"inline\" method=\"post\" action=\"/v1/analytics/dashboard/logout\">\
         <button type=\"submit\">Sign out</button></form></p>\
         <h2 id=\"h-time\">Participation over time</h2>{time}\
         <h2 id=\"h-district\">By district</h2>{district}\
         <h2 id=\"h-age\">By age band</h2>{age}\
         <h2 id=\"h-outcome\">By outcome</h2>{outcome}",
        name = escape(name),
        from = escape(&report.from),
        to = escape(&report.to),
        k = report.k,
        form = range_form(&report.from, &report.to),
        time = over_time(report),
        district = bars("district", "District", &report.totals.district),
        age = bars("age", "Age band", &report.totals.age_band),
        outcome = table("outcome", "Outcome", &rows(&report.totals.outcome)),
    );
    page(&format!("Engagement: {name}"), &body)
}

/// The rows of a view: its categories, then “other”.
fn rows(view: &View) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = view
        .cells
        .iter()
        .map(|f| (f.category.clone(), f.count))
        .collect();
    if let Some(o) = view.other {
        rows.push(("other".into(), o));
    }
    rows
}

fn table(id: &str, what: &str, rows: &[(String, i64)]) -> String {
    if rows.is_empty() {
        return "<p>Nothing to show: fewer than k residents in this range.</p>".into();
    }
    let body: String = rows
        .iter()
        .map(|(c, n)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{n}</td></tr>",
                escape(c)
            )
        })
        .collect();
    format!(
        "<table aria-labelledby=\"h-{id}\"><thead><tr><th scope=\"col\">{what}</th>\
         <th scope=\"col\">Residents</th></tr></thead><tbody>{body}</tbody></table>"
    )
}

const BAR: &str = "#2a6f97";
const MUTED: &str = "#bbbbbb";

/// Horizontal bars, one per category, and the table of the same figures.
fn bars(id: &str, what: &str, view: &View) -> String {
    let rows = rows(view);
    if rows.is_empty() {
        return table(id, what, &rows);
    }
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (160i64, 440i64, 26i64);
    let height = row_h * i64::try_from(rows.len()).unwrap_or(0) + 10;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {height}\" width=\"{w}\" \
         height=\"{height}\" role=\"img\" aria-labelledby=\"svg-{id}\">\
         <title id=\"svg-{id}\">{what}: residents per category (table below)</title>",
        w = label_w + bar_w + 60,
        what = escape(what)
    );
    for (i, (c, n)) in rows.iter().enumerate() {
        let y = row_h * i64::try_from(i).unwrap_or(0) + 5;
        let w = (bar_w * n.max(&0) / max).max(1);
        let fill = if c == "other" { MUTED } else { BAR };
        svg.push_str(&format!(
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\">{c}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\">\
             <title>{c}: {n}</title></rect>\
             <text x=\"{vx}\" y=\"{ty}\" font-size=\"13\">{n}</text>",
            tx = label_w - 6,
            ty = y + 15,
            h = row_h - 8,
            vx = label_w + w + 4,
            c = escape(c),
        ));
    }
    svg.push_str("</svg>");
    format!("<figure>{svg}</figure>{}", table(id, what, &rows))
}

/// One bar per day (a grey tick for a day under k), and the table of the days.
fn over_time(report: &Report) -> String {
    let days: Vec<(&str, Option<i64>, bool)> = report
        .days
        .iter()
        .map(|d| (d.date.as_str(), d.figures.total, d.closed))
        .collect();
    let n = i64::try_from(days.len()).unwrap_or(1).max(1);
    let max = days.iter().filter_map(|d| d.1).max().unwrap_or(1).max(1);
    let (left, plot_w, plot_h, top) = (50i64, 640i64, 200i64, 10i64);
    let step = (plot_w / n).max(1);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
         height=\"{h}\" role=\"img\" aria-labelledby=\"svg-time\">\
         <title id=\"svg-time\">Residents per day, {} to {} (table below)</title>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#333\"/>\
         <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{max}</text>\
         <text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\" font-size=\"12\">0</text>",
        escape(&report.from),
        escape(&report.to),
        w = left + plot_w + 10,
        h = top + plot_h + 40,
        base = top + plot_h,
        right = left + plot_w,
        lx = left - 6,
        ty = top + 10,
    );
    for (i, (date, total, closed)) in days.iter().enumerate() {
        let x = left + step * i64::try_from(i).unwrap_or(0) + 1;
        let bw = (step - 2).max(1);
        let (y, bh, fill, label) = match total {
            Some(t) => {
                let bh = (plot_h * t.max(&0) / max).max(1);
                (top + plot_h - bh, bh, BAR, t.to_string())
            }
            None if *closed => (
                top + plot_h - 3,
                3,
                MUTED,
                format!("fewer than {}", report.k),
            ),
            None => (top + plot_h - 3, 3, MUTED, "not yet closed".into()),
        };
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{bw}\" height=\"{bh}\" fill=\"{fill}\">\
             <title>{}: {}</title></rect>",
            escape(date),
            escape(&label)
        ));
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        svg.push_str(&format!(
            "<text x=\"{left}\" y=\"{y}\" font-size=\"12\">{}</text>\
             <text x=\"{right}\" y=\"{y}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            escape(first.0),
            escape(last.0),
            y = top + plot_h + 18,
            right = left + plot_w,
        ));
    }
    svg.push_str("</svg>");
    let body: String = days
        .iter()
        .map(|(date, total, closed)| {
            let cell = match (total, closed) {
                (Some(t), _) => t.to_string(),
                (None, true) => format!("fewer than {}", report.k),
                (None, false) => "not yet closed".into(),
            };
            format!(
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
                escape(date),
                escape(&cell)
            )
        })
        .collect();
    format!(
        "<figure>{svg}</figure><table aria-labelledby=\"h-time\"><thead><tr>\
         <th scope=\"col\">Day</th><th scope=\"col\">Residents</th></tr></thead>\
         <tbody>{body}</tbody></table>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report whose texts try to break out of the page.
    fn hostile() -> Report {
        let view = serde_json::json!({
            "cells": [{"category": "<img src=x onerror=alert(1)>", "count": 12},
                      {"category": "\"><script>alert(2)</script>", "count": 11}],
            "other": 10
        });
        let day = |date: &str, closed: bool| {
            serde_json::json!({"date": date, "closed": closed, "k": 10, "total": 33,
                "outcome": view, "district": view, "age_band": view})
        };
        serde_json::from_value(serde_json::json!({
            "platform": "p", "from": "2026-12-01", "to": "2026-12-02", "k": 10,
            "epsilon": null, "noise": null, "suppression": "…",
            "days": [day("2026-12-01", true), day("2026-12-02", false)],
            "totals": {"total": 66, "outcome": view, "district": view, "age_band": view}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_text_is_escaped_and_there_is_no_script() {
        let page = render("Budget <b>&</b>", &hostile());
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
        assert!(page.contains("Budget &lt;b&gt;&amp;&lt;/b&gt;"));
        assert_eq!(page.matches("<svg").count(), 3);
        assert_eq!(page.matches("<table").count(), 4);
        // The style sheet is the one the CSP's hash allows.
        let hash = base64::engine::general_purpose::STANDARD.encode(sha256(STYLE.as_bytes()));
        assert!(content_security_policy().contains(&hash));
        assert!(page.contains(&format!("<style>{STYLE}</style>")));
        let login = login(Some("<x>"));
        assert!(login.contains("&lt;x&gt;") && login.contains("type=\"password\""));
    }
}
