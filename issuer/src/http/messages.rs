//! The issuer's message catalogue for its resident pages: `locales/en.ftl` and `locales/nl.ftl`
//! (Project Fluent), built in. The pages follow the browser's language
//! ([`civic_service::i18n::negotiate`], added by [`with_language`]); `/static/app.js` gets its
//! sentences from the page (the `js-*` and `error-*` messages, in `<body data-messages>`).

use std::sync::LazyLock;

use axum::Router;

use civic_service::i18n::{Catalogue, FluentValue};

/// The catalogue: English first (the fallback), then Dutch.
pub(crate) static MESSAGES: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::shipped(&[
        ("en", include_str!("../../locales/en.ftl")),
        ("nl", include_str!("../../locales/nl.ftl")),
    ])
});

/// Message `id` in the request's language.
pub(super) fn t(id: &str) -> String {
    MESSAGES.t(id)
}

/// Message `id` with `args` in the request's language.
pub(super) fn f(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    MESSAGES.f(id, args)
}

/// The request's language tag (`<html lang>`).
pub(super) fn lang_tag() -> String {
    MESSAGES.current_tag()
}

/// The sentences `/static/app.js` shows (ids starting `js-` or `error-`), as a JSON object in
/// the request's language.
pub(super) fn script_messages() -> String {
    let map: serde_json::Map<String, serde_json::Value> = MESSAGES
        .ids()
        .into_iter()
        .filter(|id| id.starts_with("js-") || id.starts_with("error-"))
        .map(|id| {
            let text = t(&id);
            (id, serde_json::Value::String(text))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Runs every request of `router` in the language the browser asks for.
pub(super) fn with_language<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    civic_service::i18n::with_language(router, &MESSAGES)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_message_exists_in_every_language() {
        let catalogue = Catalogue::new(&[
            ("en", include_str!("../../locales/en.ftl")),
            ("nl", include_str!("../../locales/nl.ftl")),
        ])
        .unwrap();
        assert_eq!(catalogue.gaps(), Vec::<String>::new());
        // Every claim the account page shows has a name in the catalogue.
        for label in civic_credential::residency::labels::CLAIM_LABELS {
            let id = format!("claim-{}", label.path.join("-"));
            assert!(catalogue.ids().contains(&id), "{id}");
        }
        // The script's sentences are there.
        let js = script_messages();
        for id in ["js-follow-prompt", "js-offer-ready", "error-invalid_code"] {
            assert!(js.contains(id), "{js}");
        }
    }
}
