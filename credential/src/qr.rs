//! QR codes as SVG, for credential offers (issuer) and presentation requests (verifier).
//!
//! Not protocol logic, but both services draw one per offer or session, so it lives here once.
//! The mask pattern is fixed rather than chosen by scoring all eight: the scoring was most of
//! the cost of opening a verifier session, and every mask gives a valid, readable code.

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::render::{svg, Renderer};
use qrcode::{bits, ec, EcLevel};

/// `text` as an SVG QR code (error correction M, quiet zone, at least 240×240), or `None` when
/// the text is too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let ec_level = EcLevel::M;
    let bits = bits::encode_auto(text.as_bytes(), ec_level).ok()?;
    let version = bits.version();
    let (data, ec_data) = ec::construct_codewords(&bits.into_bytes(), version, ec_level).ok()?;
    let mut canvas = Canvas::new(version, ec_level);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec_data);
    canvas.apply_mask(MaskPattern::Checkerboard);
    let colors = canvas.into_colors();
    let width = version.width();
    let width = usize::try_from(width).ok()?;
    if width.checked_mul(width)? != colors.len() {
        return None;
    }
    Some(
        Renderer::<svg::Color<'_>>::new(&colors, width, 4)
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_svg_and_refuses_what_does_not_fit() {
        let svg =
            super::svg("openid4vp://?client_id=x&request_uri=https%3A%2F%2Fv.example%2Fr%2F1")
                .expect("fits");
        assert!(svg.starts_with("<?xml") || svg.contains("<svg"));
        assert!(super::svg(&"x".repeat(5000)).is_none());
    }
}
