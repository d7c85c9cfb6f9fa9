//! The examples' message catalogue: `locales/en.ftl` and `locales/nl.ftl` (Project Fluent),
//! built in. Every page follows the browser's language ([`civic_service::i18n::negotiate`], added
//! by [`crate::SECURITY_HEADERS`]'s caller through [`with_language`]); [`t`] and [`f`] give a
//! message in the request's language as plain text (escape it like any text).

use std::sync::LazyLock;

use axum::Router;

use civic_service::i18n::{Catalogue, FluentValue};

/// The catalogue: English first (the fallback), then Dutch.
pub static MESSAGES: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::shipped(&[
        ("en", include_str!("../locales/en.ftl")),
        ("nl", include_str!("../locales/nl.ftl")),
    ])
});

/// Message `id` in the request's language.
pub fn t(id: &str) -> String {
    MESSAGES.t(id)
}

/// Message `id` with `args` in the request's language.
pub fn f(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    MESSAGES.f(id, args)
}

/// The request's language tag (`<html lang>`).
pub fn lang_tag() -> String {
    MESSAGES.current_tag()
}

/// Runs every request of `router` in the language the browser asks for.
pub fn with_language(router: Router) -> Router {
    civic_service::i18n::with_language(router, &MESSAGES)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_message_exists_in_every_language() {
        let loaded = Catalogue::new(&[
            ("en", include_str!("../locales/en.ftl")),
            ("nl", include_str!("../locales/nl.ftl")),
        ]);
        let catalogue = loaded.unwrap();
        assert_eq!(catalogue.gaps(), Vec::<String>::new());
        assert!(catalogue.ids().len() > 100, "{}", catalogue.ids().len());
    }
}
