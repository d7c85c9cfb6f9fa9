//! QR codes as SVG for credential offers.

use qrcode::{render::svg, EcLevel, QrCode};

/// `text` as an SVG QR code with a quiet zone; an accessible `<title>` is added by the page.
pub fn svg(text: &str) -> String {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        // Offers are a few hundred bytes; a QR code holds far more. Should one not fit, the
        // same-device link still works.
        Err(_) => String::new(),
    }
}
