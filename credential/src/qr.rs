//! QR codes as SVG, for credential offers (issuer) and presentation requests (verifier).
//!
//! Not protocol logic, but both services draw one per offer or session, so it lives here once.
//! The mask pattern is fixed rather than chosen by scoring all eight: the scoring was most of
//! the cost of opening a verifier session, and every mask gives a valid, readable code.

use std::fmt::Write;

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{bits, ec, Color, EcLevel};

/// Light modules around the code on each side (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;
/// The smallest side of the drawn code, in pixels.
const MIN_PIXELS: usize = 240;

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
    let width = usize::try_from(version.width()).ok()?;
    if width.checked_mul(width)? != colors.len() {
        return None;
    }
    Some(draw(&colors, width))
}

/// The modules as one SVG path in module units (a `viewBox` scales it), each horizontal run
/// of dark modules one rectangle. qrcode's own renderer wrote one rectangle per module in
/// pixel units, and its number formatting was a tenth of a verifier session's CPU.
fn draw(colors: &[Color], width: usize) -> String {
    let side = width + 2 * QUIET_ZONE;
    let pixels = side * MIN_PIXELS.div_ceil(side);
    let mut out = String::with_capacity(200 + colors.len() * 4);
    // (Writing to a String cannot fail.)
    let _ = write!(
        out,
        "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" \
         version=\"1.1\" width=\"{pixels}\" height=\"{pixels}\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><path fill=\"#fff\" d=\"M0 0h{side}v{side}H0z\"/>\
         <path fill=\"#000\" d=\""
    );
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = QUIET_ZONE;
        for run in row.chunk_by(|a, b| a == b) {
            if run.first() == Some(&Color::Dark) {
                let mut itoa = itoa::Buffer::new();
                out.push('M');
                out.push_str(itoa.format(x));
                out.push(' ');
                out.push_str(itoa.format(y + QUIET_ZONE));
                out.push('h');
                out.push_str(itoa.format(run.len()));
                out.push_str("v1h-");
                out.push_str(itoa.format(run.len()));
                out.push('z');
            }
            x += run.len();
        }
    }
    out.push_str("\"/></svg>");
    out
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
