//! QR codes as SVG for credential offers (drawn by `civic_credential::qr`).

/// `text` as an SVG QR code with a quiet zone; an accessible `<title>` is added by the page.
/// Offers are a few hundred bytes; should one not fit, this is empty and the same-device link
/// still works.
pub fn svg(text: &str) -> String {
    civic_credential::qr::svg(text).unwrap_or_default()
}
