//! An offer with both grants is used once, whatever the interleaving: here a token request
//! holds the offer's pre-authorized code (after a wrong transaction code it puts it back) while
//! the resident approves the offer's authorization code grant. The code, back in the store,
//! must find the offer used.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_credential::oid4vci::authorization::{pkce_challenge, PushedAuthorizationRequest};
use civic_issuer::config::WalletClient;
use civic_issuer::issuance::client_auth::AttestationHeaders;
use civic_issuer::secrets::hash_hex;
use civic_issuer::store::Ephemeral;
use civic_testkit::services::{start_issuer, IssuerSetup};
use civic_testkit::wallet;

const CLIENT: &str = "https://wallet.example";
const REDIRECT: &str = "https://wallet.example/callback";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_held_while_the_other_grant_is_used_finds_the_offer_used() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(
        tmp.path(),
        IssuerSetup {
            wallet_clients: vec![WalletClient {
                client_id: CLIENT.into(),
                name: "Test wallet".into(),
                redirect_uris: vec![REDIRECT.into()],
                wallet_providers: Vec::new(),
            }],
            ..IssuerSetup::default()
        },
    )
    .await;
    let offer = issuer.admin_post("/admin/api/residents/D-0001/offer").await;
    let grants = &offer["credential_offer"]["grants"];
    let state = grants["authorization_code"]["issuer_state"]
        .as_str()
        .expect("issuer_state")
        .to_owned();
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let store = issuer.issuer.store();
    let now = civic_testkit::now();

    // A token request holds the pre-authorized code...
    let key = hash_hex(&code);
    let held = store
        .take_ephemeral(Ephemeral::PreAuthorizedCode, &key, now)
        .expect("store")
        .expect("the code");
    // ...while the resident approves the authorization code grant of the same offer...
    let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());
    let pushed = PushedAuthorizationRequest {
        client_id: CLIENT.into(),
        redirect_uri: REDIRECT.into(),
        scope: vec!["residency".into()],
        state: None,
        code_challenge: pkce_challenge(&verifier),
        issuer_state: Some(state),
        dpop_jkt: None,
    };
    let par = issuer
        .issuer
        .issuance
        .push_authorization(
            pushed.to_form().as_bytes(),
            &[],
            &AttestationHeaders::default(),
        )
        .expect("pushed");
    issuer
        .issuer
        .issuance
        .decide_authorization("D-0001", CLIENT, &par.request_uri, true)
        .expect("approved");
    // ...then puts it back (a wrong transaction code leaves tries).
    store
        .put_ephemeral(Ephemeral::PreAuthorizedCode, &key, &held, now + 300)
        .expect("put back");

    let (s, b) = wallet::token(&issuer.http, &issuer.base, &code, offer["tx_code"].as_str()).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "{b}"
    );
}
