//! Certificate verifiers (`x509_hash:`, `x509_san_dns:`): the chain, the hash and the names
//! are checked; a chain the anchors do not vouch for is unauthenticated and gets no pseudonym.

use base64::Engine as _;
use civic_credential::crypto::SigningKey;
use civic_credential::oid4vp::{RequestLink, X509_HASH_PREFIX, X509_SAN_DNS_PREFIX};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};

use super::tests::{issue, issue_for_tests, request, NOW, PLATFORM};
use super::*;

struct Pki {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

fn pki(name: &str) -> Pki {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.not_before = rcgen::date_time_ymd(2026, 1, 1);
    p.not_after = rcgen::date_time_ymd(2028, 1, 1);
    let ca = p.self_signed(&ca_key).unwrap();
    Pki { ca, ca_key }
}

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

impl Pki {
    fn anchors(&self) -> Anchors {
        Anchors::parse(&[b64(self.ca.der())], NOW)
    }

    /// A verifier certificate for `hosts` and its key.
    fn leaf(&self, hosts: &[&str]) -> (Vec<u8>, SigningKey) {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name
            .push(DnType::OrganizationName, "Participatory Budget Teststad");
        p.not_before = rcgen::date_time_ymd(2026, 1, 1);
        p.not_after = rcgen::date_time_ymd(2028, 1, 1);
        let cert = p.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let signer = SigningKey::from_pkcs8(&key.serialize_der()).unwrap();
        (cert.der().to_vec(), signer)
    }
}

/// A request signed by `key` with `leaf` in `x5c`, under `client_id`, and its link.
fn signed(
    paths: &[ClaimPath],
    client_id: String,
    leaf: &[u8],
    key: &SigningKey,
) -> (String, String) {
    let (_, _, mut req) = request(paths);
    req.client_id = client_id;
    let link = RequestLink {
        client_id: req.client_id.clone(),
        request_uri: "https://verifier.example/v1/request/1".into(),
        request_uri_method: None,
    }
    .to_url("openid4vp://");
    (req.to_signed_jwt_x5c(key, &[leaf.to_vec()]).unwrap(), link)
}

fn hash(der: &[u8]) -> String {
    format!(
        "{X509_HASH_PREFIX}{}",
        civic_credential::x509::Certificate::parse(der)
            .unwrap()
            .x509_hash()
    )
}

#[test]
fn an_anchored_certificate_verifier_is_named_and_gets_its_own_pseudonym() {
    let (creds, _) = issue_for_tests();
    let registry = pki("Teststad platform registry");
    let (leaf, key) = registry.leaf(&["verifier.example"]);
    let paths = [pseudonym::path(PLATFORM)];
    let (jwt, link) = signed(&paths, hash(&leaf), &leaf, &key);
    let p = prepare(&jwt, &link, None, &creds, None, &registry.anchors()).unwrap();
    assert!(p.authenticated);
    assert_eq!(p.verifier, "verifier.example");
    assert_eq!(
        p.verifier_name.as_deref(),
        Some("Participatory Budget Teststad")
    );
    assert_eq!(p.platform.as_deref(), Some(PLATFORM));
    assert_eq!((p.refused, p.credential), (None, Some(0)));

    // x509_san_dns: the same, named by the host.
    let (jwt, link) = signed(
        &paths,
        format!("{X509_SAN_DNS_PREFIX}verifier.example"),
        &leaf,
        &key,
    );
    let p = prepare(&jwt, &link, None, &creds, None, &registry.anchors()).unwrap();
    assert!(p.authenticated && p.refused.is_none());
}

#[test]
fn a_certificate_the_anchors_do_not_vouch_for_is_unauthenticated_and_gets_no_pseudonym() {
    let (creds, _) = issue_for_tests();
    let registry = pki("Teststad platform registry");
    let rogue = pki("Rogue CA");
    let (leaf, key) = rogue.leaf(&["verifier.example"]);
    let (jwt, link) = signed(&[pseudonym::path(PLATFORM)], hash(&leaf), &leaf, &key);
    let p = prepare(&jwt, &link, None, &creds, None, &registry.anchors()).unwrap();
    assert!(!p.authenticated);
    assert_eq!(p.platform, None);
    assert!(p.unauthenticated_reason.is_some());
    assert!(
        p.refused.is_some(),
        "no pseudonym without an anchored chain"
    );
    assert_eq!(p.credential, None);
    // With no anchors at all, the same.
    let p = prepare(&jwt, &link, None, &creds, None, &Anchors::default()).unwrap();
    assert!(!p.authenticated && p.refused.is_some());
    // It may still ask for what needs no identity, and is told apart on the consent screen.
    let age = [ClaimPath::keys(["age_equal_or_over", "16"])];
    let (jwt, link) = signed(&age, hash(&leaf), &leaf, &key);
    let p = prepare(&jwt, &link, None, &creds, None, &registry.anchors()).unwrap();
    assert!(!p.authenticated && p.refused.is_none());
}

#[test]
fn inconsistent_certificate_requests_are_refused() {
    let (creds, _) = issue_for_tests();
    let registry = pki("Teststad platform registry");
    let anchors = registry.anchors();
    let (leaf, key) = registry.leaf(&["verifier.example"]);
    let (other_leaf, other_key) = registry.leaf(&["verifier.example"]);
    let paths = [pseudonym::path(PLATFORM)];
    let refused = |jwt: &str, link: &str| {
        prepare(jwt, link, None, &creds, None, &anchors)
            .map(|_| ())
            .map_err(|e| e.code)
    };
    // The hash of another certificate.
    let (jwt, link) = signed(&paths, hash(&other_leaf), &leaf, &key);
    assert_eq!(refused(&jwt, &link), Err("invalid_request_object"));
    // Signed by a key that is not the certificate's.
    let (jwt, link) = signed(&paths, hash(&leaf), &leaf, &other_key);
    assert_eq!(refused(&jwt, &link), Err("invalid_request_object"));
    // A certificate for another host than the response_uri's.
    let (elsewhere, elsewhere_key) = registry.leaf(&["budget.example"]);
    let (jwt, link) = signed(&paths, hash(&elsewhere), &elsewhere, &elsewhere_key);
    assert_eq!(refused(&jwt, &link), Err("invalid_request_object"));
    // x509_san_dns naming a host the certificate does not have.
    let (jwt, link) = signed(
        &paths,
        format!("{X509_SAN_DNS_PREFIX}budget.example"),
        &leaf,
        &key,
    );
    assert_eq!(refused(&jwt, &link), Err("invalid_request_object"));
    // Unsigned, or without x5c.
    let (_, _, mut req) = request(&paths);
    req.client_id = hash(&leaf);
    let link = RequestLink {
        client_id: req.client_id.clone(),
        request_uri: "https://verifier.example/v1/request/1".into(),
        request_uri_method: None,
    }
    .to_url("openid4vp://");
    assert_eq!(
        refused(&req.to_unsigned_jwt().unwrap(), &link),
        Err("invalid_request_object")
    );
    assert_eq!(
        refused(&req.to_signed_jwt(&key).unwrap(), &link),
        Err("invalid_request_object")
    );
}

#[test]
fn a_registry_entry_that_is_not_a_certificate_is_left_out_not_fatal() {
    let (creds, _) = issue_for_tests();
    let registry = pki("Teststad platform registry");
    let (leaf, key) = registry.leaf(&["verifier.example"]);
    let (jwt, link) = signed(&[pseudonym::path(PLATFORM)], hash(&leaf), &leaf, &key);
    let anchors = Anchors::parse(
        &[
            "bm90IGEgY2VydA==".into(),
            "%%%".into(),
            b64(registry.ca.der()),
        ],
        NOW,
    );
    let p = prepare(&jwt, &link, None, &creds, None, &anchors).unwrap();
    assert!(p.authenticated, "the good anchor still vouches");
    // Only bad entries: nothing vouches, and the request is still read.
    let only_bad = Anchors::parse(&["bm90IGEgY2VydA==".into()], NOW);
    let p = prepare(&jwt, &link, None, &creds, None, &only_bad).unwrap();
    assert!(!p.authenticated && p.refused.is_some());
}

/// DCQL `trusted_authorities` of type `aki`: only a credential whose `x5c` chain carries one of
/// the named authority key identifiers answers; without the constraint, any does.
#[test]
fn trusted_authorities_pick_the_credential_certified_by_a_named_authority() {
    use civic_credential::crypto::Algorithm;
    use civic_credential::oid4vp::{trusted_authorities, AKI};
    let pki = pki("Teststad issuer CA");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(vec!["id.example".to_string()]).unwrap();
    p.use_authority_key_identifier_extension = true;
    p.not_before = rcgen::date_time_ymd(2026, 1, 1);
    p.not_after = rcgen::date_time_ymd(2028, 1, 1);
    let leaf = p.signed_by(&key, &pki.ca, &pki.ca_key).unwrap();
    let certified = SigningKey::from_pkcs8(&key.serialize_der())
        .unwrap()
        .with_kid("k1")
        .with_x5c(vec![leaf.der().to_vec()]);
    let plain = SigningKey::generate(Algorithm::Es256, &mut rand_core::OsRng)
        .unwrap()
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().unwrap().to_public();
    let creds = vec![
        issue(&plain, &holder, "1980-05-05"),
        issue(&certified, &holder, "1980-05-05"),
    ];
    let ski = civic_credential::x509::Certificate::parse(pki.ca.der())
        .unwrap()
        .subject_key_id()
        .map(civic_credential::encoding::b64_encode)
        .unwrap();
    let paths = [ClaimPath::keys(["age_equal_or_over", "16"])];
    let chosen = |values: Option<Vec<String>>| {
        let (_, link, mut req) = request(&paths);
        req.dcql_query.credentials[0].trusted_authorities =
            values.map(|values| trusted_authorities(AKI, &values));
        let jwt = req.to_unsigned_jwt().unwrap();
        prepare(&jwt, &link, None, &creds, None, &Anchors::default())
            .unwrap()
            .credential
    };
    assert_eq!(
        chosen(None),
        Some(0),
        "without the constraint the first answers"
    );
    assert_eq!(
        chosen(Some(vec![ski])),
        Some(1),
        "only the certified one is from the CA"
    );
    assert_eq!(chosen(Some(vec!["c29tZW9uZSBlbHNl".into()])), None);
}
