//! Message catalogues and the language the browser asks for.
//!
//! Each component that shows pages to residents (the issuer, the example platforms) has one
//! catalogue: a [Project Fluent](https://projectfluent.org/) file per language (`locales/en.ftl`,
//! `locales/nl.ftl`), built into the binary. [`Catalogue::choose`] picks the language from the
//! request's `Accept-Language` ([`AcceptLanguage`]), English when nothing matches;
//! [`Catalogue::text`] and [`Catalogue::format`] give a message as plain text, which the page
//! escapes like any other text. A message missing in the chosen language falls back to the first
//! language; one missing everywhere shows as `⟦id⟧` and is remembered ([`Catalogue::misses`]), so
//! tests that render every page can prove nothing is missing. [`Catalogue::gaps`] lists the
//! messages one language has and another lacks, or whose variables differ.
//!
//! [`negotiate`] is the middleware that chooses the language once per request: code that renders
//! a page (handlers, error pages, status messages) reads it with [`Catalogue::t`] and
//! [`Catalogue::f`] without passing it along, and the answer says `Content-Language` and
//! `Vary: Accept-Language`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

pub use fluent_bundle::FluentValue;

/// A language of a catalogue (an index into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(usize);

/// Why a catalogue cannot be built (a defect in the shipped files: tests build every catalogue).
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A language tag that does not parse.
    #[error("language tag {0:?}")]
    Tag(String),
    /// A file with Fluent syntax errors.
    #[error("{lang}.ftl: {errors}")]
    Syntax {
        /// The language.
        lang: String,
        /// The parser's errors.
        errors: String,
    },
    /// A message defined twice.
    #[error("{lang}.ftl: {errors}")]
    Duplicate {
        /// The language.
        lang: String,
        /// What the bundle reported.
        errors: String,
    },
}

/// The messages of one component in each of its languages; the first is the fallback.
pub struct Catalogue {
    langs: Vec<LanguageIdentifier>,
    bundles: Vec<FluentBundle<FluentResource>>,
    /// Per language: message id → the variables it uses.
    variables: Vec<BTreeMap<String, BTreeSet<String>>>,
    misses: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("langs", &self.langs)
            .finish_non_exhaustive()
    }
}

fn variables_of(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            variables_in(expression, out);
        }
    }
}

fn variables_in(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Inline(inline) => inline_variables(inline, out),
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for v in variants {
                variables_of(&v.value, out);
            }
        }
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_owned());
        }
        ast::InlineExpression::Placeable { expression } => variables_in(expression, out),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_variables(a, out);
            }
        }
        _ => {}
    }
}

tokio::task_local! {
    /// The language [`negotiate`] chose for the request being handled.
    static CURRENT: Lang;
}

impl Catalogue {
    /// Builds the catalogue a component ships (its files are built in): on a defect in them,
    /// which the component's tests catch, logs it and shows every message as `⟦id⟧`.
    pub fn shipped(sources: &[(&str, &str)]) -> Self {
        Catalogue::new(sources).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the message catalogue does not load");
            Catalogue::empty()
        })
    }

    /// A catalogue with no messages.
    pub fn empty() -> Self {
        Catalogue {
            langs: Vec::new(),
            bundles: Vec::new(),
            variables: Vec::new(),
            misses: Mutex::new(BTreeSet::new()),
        }
    }

    /// The language chosen for the request being handled ([`negotiate`]), or the fallback
    /// outside one.
    pub fn current(&self) -> Lang {
        CURRENT.try_with(|l| *l).unwrap_or(self.fallback())
    }

    /// The request's language tag ([`Catalogue::current`]), for `<html lang>`.
    pub fn current_tag(&self) -> String {
        self.tag(self.current())
    }

    /// Message `id` in the request's language.
    pub fn t(&self, id: &str) -> String {
        self.text(self.current(), id)
    }

    /// Message `id` with `args` in the request's language.
    pub fn f(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        self.format(self.current(), id, args)
    }

    /// Builds a catalogue from `(language tag, Fluent source)` pairs; the first language is the
    /// fallback.
    pub fn new(sources: &[(&str, &str)]) -> Result<Self, CatalogueError> {
        let mut langs = Vec::new();
        let mut bundles = Vec::new();
        let mut variables = Vec::new();
        for (tag, source) in sources {
            let lang: LanguageIdentifier = tag
                .parse()
                .map_err(|_| CatalogueError::Tag((*tag).to_owned()))?;
            let mut vars = BTreeMap::new();
            let parsed = fluent_syntax::parser::parse(*source).map_err(|(_, errors)| {
                CatalogueError::Syntax {
                    lang: (*tag).to_owned(),
                    errors: format!("{errors:?}"),
                }
            })?;
            for entry in &parsed.body {
                if let ast::Entry::Message(m) = entry {
                    let mut used = BTreeSet::new();
                    if let Some(value) = &m.value {
                        variables_of(value, &mut used);
                    }
                    vars.insert(m.id.name.to_owned(), used);
                }
            }
            let resource =
                FluentResource::try_new((*source).to_owned()).map_err(|(_, errors)| {
                    CatalogueError::Syntax {
                        lang: (*tag).to_owned(),
                        errors: format!("{errors:?}"),
                    }
                })?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang.clone()]);
            // Pages are HTML: no Unicode isolation marks around arguments.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| CatalogueError::Duplicate {
                    lang: (*tag).to_owned(),
                    errors: format!("{errors:?}"),
                })?;
            langs.push(lang);
            bundles.push(bundle);
            variables.push(vars);
        }
        if langs.is_empty() {
            return Err(CatalogueError::Tag(String::new()));
        }
        Ok(Catalogue {
            langs,
            bundles,
            variables,
            misses: Mutex::new(BTreeSet::new()),
        })
    }

    /// The fallback language (the first).
    pub fn fallback(&self) -> Lang {
        Lang(0)
    }

    /// The language tag, for `<html lang>` and `Content-Language`.
    pub fn tag(&self, lang: Lang) -> String {
        self.langs
            .get(lang.0)
            .or_else(|| self.langs.first())
            .map_or_else(|| "en".to_owned(), ToString::to_string)
    }

    /// The language whose tag is `tag`, if the catalogue has it.
    pub fn lang(&self, tag: &str) -> Option<Lang> {
        let wanted: LanguageIdentifier = tag.parse().ok()?;
        self.langs
            .iter()
            .position(|l| l.language == wanted.language)
            .map(Lang)
    }

    /// The best language for an `Accept-Language` header (RFC 9110 §12.5.4, with q-values), or
    /// the fallback.
    pub fn choose(&self, accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return self.fallback();
        };
        let requested = requested_languages(header);
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &self.langs,
            self.langs.first(),
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|c| self.langs.iter().position(|l| l == *c))
            .map_or(self.fallback(), Lang)
    }

    /// Message `id` in `lang`, with no arguments.
    pub fn text(&self, lang: Lang, id: &str) -> String {
        self.format(lang, id, &[])
    }

    /// Message `id` in `lang` with `args`, as plain text (escape it for HTML). Falls back to the
    /// first language, then to `⟦id⟧`.
    pub fn format(&self, lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        for bundle in [self.bundles.get(lang.0), self.bundles.first()]
            .into_iter()
            .flatten()
        {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                if !errors.is_empty() {
                    self.miss(format!("{id}: {errors:?}"));
                }
                return text.into_owned();
            }
        }
        self.miss(id.to_owned());
        format!("⟦{id}⟧")
    }

    fn miss(&self, what: String) {
        tracing::warn!(message = %what, "a message is missing from the catalogue");
        if let Ok(mut misses) = self.misses.lock() {
            misses.insert(what);
        }
    }

    /// The messages looked up but missing (or formatted with errors) since the start: tests
    /// render every page and expect none.
    pub fn misses(&self) -> Vec<String> {
        self.misses
            .lock()
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// What does not match between the languages: a message one has and another lacks, or one
    /// whose variables differ. Empty for a complete catalogue.
    pub fn gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        let Some(first) = self.variables.first() else {
            return gaps;
        };
        for (i, vars) in self.variables.iter().enumerate().skip(1) {
            let tag = self.tag(Lang(i));
            let base = self.tag(Lang(0));
            for (id, used) in first {
                match vars.get(id) {
                    None => gaps.push(format!("{tag} lacks {id}")),
                    Some(v) if v != used => {
                        gaps.push(format!("{id}: {base} uses {used:?}, {tag} uses {v:?}"))
                    }
                    Some(_) => {}
                }
            }
            for id in vars.keys().filter(|id| !first.contains_key(*id)) {
                gaps.push(format!("{base} lacks {id}"));
            }
        }
        gaps
    }

    /// Every message id of the fallback language.
    pub fn ids(&self) -> Vec<String> {
        self.variables
            .first()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The languages of an `Accept-Language` header, most wanted first: by q-value (RFC 9110
/// §12.4.2), in header order among equals, without those at `q=0` or that do not parse.
/// (fluent-langneg's own parser ignores the weights.)
fn requested_languages(header: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(u16, LanguageIdentifier)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let tag: LanguageIdentifier = parts.next()?.parse().ok()?;
            let mut q = 1000u16;
            for p in parts {
                if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    let value: f32 = v.parse().ok()?;
                    if !(0.0..=1.0).contains(&value) {
                        return None;
                    }
                    // In thousandths: 0..=1000 fits.
                    q = (value * 1000.0).round() as u16;
                }
            }
            (q > 0).then_some((q, tag))
        })
        .collect();
    weighted.sort_by_key(|w| std::cmp::Reverse(w.0));
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

/// Middleware: chooses the language of `catalogue` from the request's `Accept-Language`, runs
/// the rest of the request with it ([`Catalogue::current`]), and marks the answer with
/// `Content-Language` and `Vary: Accept-Language`. Add it with
/// `axum::middleware::from_fn(move |req, next| i18n::negotiate(catalogue, req, next))`.
pub async fn negotiate(
    catalogue: &'static Catalogue,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let lang = catalogue.choose(
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut response = CURRENT.scope(lang, next.run(request)).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
    if let Ok(tag) = HeaderValue::from_str(&catalogue.tag(lang)) {
        headers.insert(header::CONTENT_LANGUAGE, tag);
    }
    response
}

/// Runs every request of `router` in the language of `catalogue` the browser asks for
/// ([`negotiate`]).
pub fn with_language<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    catalogue: &'static Catalogue,
) -> axum::Router<S> {
    router.layer(axum::middleware::from_fn(move |req, next| {
        negotiate(catalogue, req, next)
    }))
}

/// The request's `Accept-Language` header, for [`Catalogue::choose`]. Never rejects.
#[derive(Debug, Clone, Default)]
pub struct AcceptLanguage(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AcceptLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(AcceptLanguage(
            parts
                .headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

impl AcceptLanguage {
    /// The header's value, if any.
    pub fn header(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const EN: &str = "hello = Hello, { $name }!\nonly-en = Only English\ncopies = { $n ->\n [one] one copy\n *[other] { $n } copies\n}\n";
    const NL: &str = "hello = Hallo, { $name }!\ncopies = { $n ->\n [one] één kopie\n *[other] { $n } kopieën\n}\nonly-nl = Alleen Nederlands\n";

    #[test]
    fn the_browser_chooses_and_english_is_the_fallback() {
        let c = Catalogue::new(&[("en", EN), ("nl", NL)]).unwrap();
        let nl = c.lang("nl").unwrap();
        assert_eq!(c.choose(Some("nl-NL,nl;q=0.9,en;q=0.8")), nl);
        assert_eq!(c.choose(Some("nl-BE")), nl);
        assert_eq!(c.choose(Some("de-DE,en;q=0.5,nl;q=0.4")), c.fallback());
        assert_eq!(c.choose(Some("fr")), c.fallback());
        assert_eq!(c.choose(Some("en;q=0.1, nl;q=0.9")), nl);
        assert_eq!(c.choose(Some("nl;q=0, en")), c.fallback());
        assert_eq!(c.choose(Some("nl;q=2, en")), c.fallback());
        assert_eq!(c.choose(Some("*")), c.fallback());
        assert_eq!(c.choose(Some("garbage;;;q=x")), c.fallback());
        assert_eq!(c.choose(None), c.fallback());
        assert_eq!(c.tag(nl), "nl");
        assert_eq!(
            c.format(nl, "hello", &[("name", "Anna".into())]),
            "Hallo, Anna!"
        );
        assert_eq!(c.format(nl, "copies", &[("n", 1.into())]), "één kopie");
        assert_eq!(c.format(nl, "copies", &[("n", 3.into())]), "3 kopieën");
        assert_eq!(
            c.format(c.fallback(), "copies", &[("n", 3.into())]),
            "3 copies"
        );
        // Missing in Dutch: English; missing everywhere: marked and remembered.
        assert_eq!(c.text(nl, "only-en"), "Only English");
        assert!(c.misses().is_empty());
        assert_eq!(c.text(nl, "nowhere"), "⟦nowhere⟧");
        assert_eq!(c.misses(), ["nowhere"]);
    }

    #[tokio::test]
    async fn the_middleware_sets_the_language_for_the_whole_request() {
        use axum::routing::get;
        use tower::ServiceExt;
        static CAT: std::sync::LazyLock<Catalogue> =
            std::sync::LazyLock::new(|| Catalogue::new(&[("en", EN), ("nl", NL)]).unwrap());
        let app = axum::Router::new()
            .route(
                "/",
                get(|| async { CAT.f("hello", &[("name", "Anna".into())]) }),
            )
            .layer(axum::middleware::from_fn(|req, next| {
                negotiate(&CAT, req, next)
            }));
        for (accept, want, tag) in [
            (Some("nl-NL"), "Hallo, Anna!", "nl"),
            (None, "Hello, Anna!", "en"),
        ] {
            let mut req = axum::http::Request::new(axum::body::Body::empty());
            if let Some(a) = accept {
                req.headers_mut()
                    .insert("accept-language", a.parse().unwrap());
            }
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.headers()["content-language"], tag);
            assert_eq!(res.headers()["vary"], "accept-language");
            let body = axum::body::to_bytes(res.into_body(), 1000).await.unwrap();
            assert_eq!(body, want);
        }
        // Outside a request: the fallback.
        assert_eq!(CAT.t("only-en"), "Only English");
    }

    #[test]
    fn gaps_list_missing_messages_and_different_variables() {
        let c = Catalogue::new(&[("en", EN), ("nl", NL)]).unwrap();
        assert_eq!(c.gaps(), ["nl lacks only-en", "en lacks only-nl"]);
        let c = Catalogue::new(&[("en", "a = { $x }\n"), ("nl", "a = { $y }\n")]).unwrap();
        assert_eq!(c.gaps().len(), 1, "{:?}", c.gaps());
        assert!(Catalogue::new(&[("en", "a = {\n")]).is_err());
        assert!(Catalogue::new(&[("en", "a = x\na = y\n")]).is_err());
        assert!(Catalogue::new(&[]).is_err());
    }
}
