//! Proves `civic_testkit::passkey::SoftPasskey` interoperates with webauthn-rs 0.6 directly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_testkit::passkey::{tamper, SoftPasskey, FLAG_UV};
use serde_json::Value;
use webauthn_rs::prelude::*;

const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:8080";

fn webauthn(origin: &str, any_port: bool) -> Webauthn {
    let origin = Url::parse(origin).expect("origin url");
    WebauthnBuilder::new(RP_ID, &origin)
        .expect("rp id matches origin")
        .rp_name("civic-id test")
        .allow_any_port(any_port)
        .build()
        .expect("webauthn")
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serialise")
}

fn register_response(
    wa: &Webauthn,
    soft: &mut SoftPasskey,
    user: Uuid,
    origin: &str,
) -> (Value, PasskeyRegistration) {
    let (ccr, state) = wa
        .start_passkey_registration(user, "alice", "Alice", None)
        .expect("start registration");
    (soft.register(&to_json(&ccr), origin), state)
}

fn register(wa: &Webauthn, soft: &mut SoftPasskey, user: Uuid) -> Passkey {
    let (resp, state) = register_response(wa, soft, user, ORIGIN);
    let resp: RegisterPublicKeyCredential = serde_json::from_value(resp).expect("reg json");
    wa.finish_passkey_registration(&resp, &state)
        .expect("registration accepted")
}

fn assertion(
    wa: &Webauthn,
    soft: &mut SoftPasskey,
    pk: &Passkey,
) -> (Value, PasskeyAuthentication) {
    let (rcr, state) = wa
        .start_passkey_authentication(std::slice::from_ref(pk))
        .expect("start authentication");
    (soft.authenticate(&to_json(&rcr), ORIGIN), state)
}

fn finish_auth(
    wa: &Webauthn,
    resp: Value,
    state: &PasskeyAuthentication,
) -> WebauthnResult<AuthenticationResult> {
    let resp: PublicKeyCredential = serde_json::from_value(resp).expect("auth json");
    wa.finish_passkey_authentication(&resp, state)
}

#[test]
fn ip_address_rp_id_is_rejected_by_builder() {
    let origin = Url::parse("http://127.0.0.1:8080").expect("url");
    assert!(WebauthnBuilder::new("127.0.0.1", &origin).is_err());
}

#[test]
fn register_then_authenticate_with_allow_list() {
    let wa = webauthn(ORIGIN, false);
    let mut soft = SoftPasskey::new();
    let user = Uuid::new_v4();
    let mut pk = register(&wa, &mut soft, user);
    assert_eq!(pk.cred_id().as_slice(), soft.credential_id());
    assert_eq!(soft.user_handle(), Some(&user.as_bytes()[..]));

    for round in 1..=2 {
        let (resp, state) = assertion(&wa, &mut soft, &pk);
        let res = finish_auth(&wa, resp, &state).expect("assertion accepted");
        assert!(res.user_verified() && res.backup_eligible() && res.backup_state());
        assert_eq!(res.counter(), round);
        pk.update_credential(&res);
    }
}

#[test]
fn empty_allow_list_returns_user_handle() {
    let wa = webauthn(ORIGIN, false);
    let mut soft = SoftPasskey::new();
    let user = Uuid::new_v4();
    let pk = register(&wa, &mut soft, user);
    let (rcr, state) = wa
        .start_passkey_authentication(std::slice::from_ref(&pk))
        .expect("start authentication");
    let mut options = to_json(&rcr);
    options["publicKey"]["allowCredentials"] = Value::Array(vec![]);
    let resp: PublicKeyCredential =
        serde_json::from_value(soft.authenticate(&options, ORIGIN)).expect("auth json");
    assert_eq!(resp.get_user_unique_id(), Some(&user.as_bytes()[..]));
    assert_eq!(resp.get_credential_id(), pk.cred_id().as_slice());
    wa.finish_passkey_authentication(&resp, &state)
        .expect("assertion accepted");
}

#[test]
fn ceremony_states_survive_serde_round_trip() {
    let wa = webauthn(ORIGIN, false);
    let mut soft = SoftPasskey::new();
    let (resp, state) = register_response(&wa, &mut soft, Uuid::new_v4(), ORIGIN);
    let state: PasskeyRegistration =
        serde_json::from_str(&serde_json::to_string(&state).expect("ser")).expect("de");
    let resp: RegisterPublicKeyCredential = serde_json::from_value(resp).expect("reg json");
    let pk = wa
        .finish_passkey_registration(&resp, &state)
        .expect("registration");

    let (resp, state) = assertion(&wa, &mut soft, &pk);
    let state: PasskeyAuthentication =
        serde_json::from_str(&serde_json::to_string(&state).expect("ser")).expect("de");
    finish_auth(&wa, resp, &state).expect("assertion accepted");
}

#[test]
fn allow_any_port_accepts_other_port() {
    let wa = webauthn(ORIGIN, true);
    let mut soft = SoftPasskey::new();
    let (resp, state) = register_response(&wa, &mut soft, Uuid::new_v4(), "http://localhost:39111");
    let resp: RegisterPublicKeyCredential = serde_json::from_value(resp).expect("reg json");
    wa.finish_passkey_registration(&resp, &state)
        .expect("any port accepted");

    let strict = webauthn(ORIGIN, false);
    let (resp, state) =
        register_response(&strict, &mut soft, Uuid::new_v4(), "http://localhost:39111");
    let resp: RegisterPublicKeyCredential = serde_json::from_value(resp).expect("reg json");
    assert!(matches!(
        strict.finish_passkey_registration(&resp, &state),
        Err(WebauthnError::InvalidRPOrigin)
    ));
}

#[test]
fn wrong_origin_is_rejected() {
    let wa = webauthn(ORIGIN, false);
    let mut soft = SoftPasskey::new();
    let (resp, state) =
        register_response(&wa, &mut soft, Uuid::new_v4(), "http://evil.example:8080");
    let resp: RegisterPublicKeyCredential = serde_json::from_value(resp).expect("reg json");
    assert!(matches!(
        wa.finish_passkey_registration(&resp, &state),
        Err(WebauthnError::InvalidRPOrigin)
    ));

    let pk = register(&wa, &mut soft, Uuid::new_v4());
    let (rcr, state) = wa
        .start_passkey_authentication(std::slice::from_ref(&pk))
        .expect("start authentication");
    let resp = soft.authenticate(&to_json(&rcr), "http://127.0.0.1:8080");
    assert!(matches!(
        finish_auth(&wa, resp, &state),
        Err(WebauthnError::InvalidRPOrigin)
    ));
}

#[test]
fn tampered_assertion_is_rejected() {
    let wa = webauthn(ORIGIN, false);
    let mut soft = SoftPasskey::new();
    let pk = register(&wa, &mut soft, Uuid::new_v4());

    let (mut resp, state) = assertion(&wa, &mut soft, &pk);
    tamper(&mut resp, "/response/signature");
    assert!(matches!(
        finish_auth(&wa, resp, &state),
        Err(WebauthnError::AuthenticationFailure)
    ));

    let (mut resp, state) = assertion(&wa, &mut soft, &pk);
    tamper(&mut resp, "/response/authenticatorData"); // bumps the signed counter
    assert!(matches!(
        finish_auth(&wa, resp, &state),
        Err(WebauthnError::AuthenticationFailure)
    ));
}

#[test]
fn missing_user_verification_is_rejected() {
    let wa = webauthn(ORIGIN, false);
    let mut soft = SoftPasskey::new();
    let pk = register(&wa, &mut soft, Uuid::new_v4());
    soft.flags &= !FLAG_UV;
    let (resp, state) = assertion(&wa, &mut soft, &pk);
    assert!(matches!(
        finish_auth(&wa, resp, &state),
        Err(WebauthnError::UserNotVerified)
    ));
}

#[test]
fn options_json_shape() {
    let wa = webauthn(ORIGIN, false);
    let (ccr, _) = wa
        .start_passkey_registration(Uuid::new_v4(), "alice", "Alice", None)
        .expect("start registration");
    let ccr = to_json(&ccr);
    println!("creation options: {ccr:#}");
    assert_eq!(ccr["publicKey"]["rp"]["id"], RP_ID);
    assert_eq!(
        ccr["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );

    let mut soft = SoftPasskey::new();
    let pk = register(&wa, &mut soft, Uuid::new_v4());
    let (rcr, _) = wa
        .start_passkey_authentication(std::slice::from_ref(&pk))
        .expect("start authentication");
    let rcr = to_json(&rcr);
    println!("request options: {rcr:#}");
    assert_eq!(rcr["publicKey"]["rpId"], RP_ID);
    assert_eq!(rcr["publicKey"]["userVerification"], "required");
}
