//! The QR codes we draw decode, with a decoder we did not write (zbar's `zbarimg`, after
//! `rsvg-convert` renders the SVG). `cargo xtask setup` installs both; under CI their absence
//! is a failure, elsewhere the test says what is missing and passes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line
#![cfg(feature = "qr")]

use std::process::Command;

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

#[test]
fn offers_and_requests_decode_with_zbar() {
    if !have("zbarimg") || !have("rsvg-convert") {
        // `cargo xtask test` sets this when its set-up installed them.
        assert!(
            std::env::var_os("CIVIC_REQUIRE_ALL_TESTS").is_none(),
            "zbarimg and rsvg-convert are needed (apt-get install zbar-tools librsvg2-bin)"
        );
        eprintln!("skipped: install zbar-tools and librsvg2-bin to run this test");
        return;
    }
    let dir = std::env::temp_dir().join(format!("civic-qr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let texts = [
        "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Flocalhost%3A8080%2Foffers%2FAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfG".to_owned(),
        "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fverifier.example%2Fv1%2Fresponse%2Fabc&request_uri=https%3A%2F%2Fverifier.example%2Fv1%2Frequest%2FXYZ123456789".to_owned(),
        "x".repeat(600),
        "a".to_owned(),
    ];
    for (i, text) in texts.iter().enumerate() {
        let svg = civic_credential::qr::svg(text).expect("fits");
        let (svg_path, png_path) = (dir.join(format!("{i}.svg")), dir.join(format!("{i}.png")));
        std::fs::write(&svg_path, svg).expect("write svg");
        let rendered = Command::new("rsvg-convert")
            .args(["-w", "800", "-o"])
            .arg(&png_path)
            .arg(&svg_path)
            .status()
            .expect("rsvg-convert");
        assert!(rendered.success());
        let out = Command::new("zbarimg")
            .args(["-q", "--raw"])
            .arg(&png_path)
            .output()
            .expect("zbarimg");
        let decoded = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            decoded.trim_end_matches('\n'),
            text,
            "QR code {i} decodes to its text"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
