use super::*;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PKCS_ED25519,
};

/// 2026-06-01T00:00:00Z, inside every test certificate's validity.
const NOW: i64 = 1_780_272_000;

struct Issued {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str, parent: Option<&Issued>) -> Issued {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = match parent {
        Some(p) => params.signed_by(&key, &p.cert, &p.key).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    Issued { cert, key }
}

fn leaf_with(names: &[&str], issuer: &Issued, edit: impl FnOnce(&mut CertificateParams)) -> Issued {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Participatory Budget Teststad");
    params.distinguished_name.push(DnType::CommonName, "budget");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2027, 1, 1);
    edit(&mut params);
    let cert = params.signed_by(&key, &issuer.cert, &issuer.key).unwrap();
    Issued { cert, key }
}

fn parsed(issued: &Issued) -> Certificate {
    Certificate::parse(issued.cert.der()).unwrap()
}

#[test]
fn reads_what_a_verifier_certificate_says() {
    let root = ca("Teststad platform CA", None);
    let leaf = leaf_with(&["budget.example", "127.0.0.1"], &root, |_| {});
    let cert = parsed(&leaf);
    assert_eq!(cert.names(), ["budget.example", "127.0.0.1"]);
    assert!(cert.names_host("BUDGET.example") && cert.names_host("127.0.0.1"));
    assert!(!cert.names_host("example") && !cert.names_host("evil.example"));
    assert_eq!(cert.display_name(), Some("Participatory Budget Teststad"));
    assert!(cert.valid_at(NOW) && !cert.valid_at(NOW + 400 * 86_400));
    // The validity bounds are exact: 2026-01-01T00:00:00Z.
    assert!(cert.valid_at(1_767_225_600) && !cert.valid_at(1_767_225_599));
    let hash = b64_encode(&crate::encoding::sha256(leaf.cert.der()));
    assert_eq!(cert.x509_hash(), hash);
    // The certificate's key is the key pair's.
    let spki_xy = leaf.key.public_key_raw();
    let jwk = cert.verifying_key().unwrap().jwk().clone();
    assert_eq!(jwk.x.as_deref(), Some(b64_encode(&spki_xy[1..33]).as_str()));
    let root_cert = parsed(&root);
    assert!(root_cert.ca && !cert.ca);
    assert_eq!(
        Certificate::from_x5c(&base64_std(leaf.cert.der()))
            .unwrap()
            .der(),
        leaf.cert.der().as_ref()
    );
}

fn base64_std(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(der)
}

#[test]
fn a_chain_to_an_anchor_verifies_directly_and_through_an_intermediate() {
    let root = ca("Teststad platform CA", None);
    let anchors = [parsed(&root)];
    let leaf = parsed(&leaf_with(&["budget.example"], &root, |_| {}));
    assert!(verify_chain(std::slice::from_ref(&leaf), &anchors, NOW).is_ok());
    // The anchor may also be sent in the chain.
    assert!(verify_chain(&[leaf.clone(), anchors[0].clone()], &anchors, NOW).is_ok());

    let middle = ca("Teststad platforms 2026", Some(&root));
    let leaf2 = parsed(&leaf_with(&["budget.example"], &middle, |_| {}));
    assert!(verify_chain(&[leaf2.clone(), parsed(&middle)], &anchors, NOW).is_ok());
    // Without the intermediate the chain does not reach the anchor.
    assert_eq!(
        verify_chain(std::slice::from_ref(&leaf2), &anchors, NOW).err(),
        Some(Error::Certificate(
            "the chain does not lead to a trusted anchor"
        ))
    );
}

#[test]
fn untrusted_expired_and_forged_chains_are_refused() {
    let root = ca("Teststad platform CA", None);
    let other = ca("Somebody else's CA", None);
    let anchors = [parsed(&root)];
    let leaf = parsed(&leaf_with(&["budget.example"], &root, |_| {}));
    // Another CA's leaf.
    let foreign = parsed(&leaf_with(&["budget.example"], &other, |_| {}));
    assert!(verify_chain(std::slice::from_ref(&foreign), &anchors, NOW).is_err());
    assert!(verify_chain(&[foreign, parsed(&other)], &anchors, NOW).is_err());
    // A self-signed leaf.
    assert!(verify_chain(&[parsed(&other)], &anchors, NOW).is_err());
    // Outside its validity.
    assert!(verify_chain(std::slice::from_ref(&leaf), &anchors, NOW + 400 * 86_400).is_err());
    // A leaf (not a CA) cannot sign another leaf.
    let under_leaf = Issued {
        cert: leaf_with(&["x.example"], &root, |_| {}).cert,
        key: KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap(),
    };
    let grandchild = parsed(&leaf_with(&["evil.example"], &under_leaf, |_| {}));
    assert_eq!(
        verify_chain(&[grandchild, parsed(&under_leaf)], &anchors, NOW).err(),
        Some(Error::Certificate("the chain is broken"))
    );
    // One flipped bit in the signature (the last byte of the DER): it still parses, and no
    // longer verifies.
    let mut der = leaf.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    let tampered = Certificate::parse(&der).unwrap();
    assert!(verify_chain(std::slice::from_ref(&tampered), &anchors, NOW).is_err());
    assert!(verify_chain(std::slice::from_ref(&leaf), &anchors, NOW).is_ok());
    // A leaf whose key usage does not allow signatures.
    let no_sign = parsed(&leaf_with(&["budget.example"], &root, |p| {
        p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    }));
    assert_eq!(
        verify_chain(&[no_sign], &anchors, NOW).err(),
        Some(Error::Certificate("the leaf may not sign"))
    );
}

#[test]
fn a_path_length_constraint_limits_the_cas_below() {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Root, no intermediates");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let root = Issued {
        cert: params.self_signed(&key).unwrap(),
        key,
    };
    let anchors = [parsed(&root)];
    // A leaf straight under it is fine.
    let direct = parsed(&leaf_with(&["budget.example"], &root, |_| {}));
    assert!(verify_chain(&[direct], &anchors, NOW).is_ok());
    // An intermediate CA under it may not sign leaves.
    let middle = ca("Unauthorized intermediate", Some(&root));
    let below = parsed(&leaf_with(&["budget.example"], &middle, |_| {}));
    assert_eq!(
        verify_chain(&[below, parsed(&middle)], &anchors, NOW).err(),
        Some(Error::Certificate(
            "the chain does not lead to a trusted anchor"
        ))
    );
}

#[test]
fn unknown_critical_extensions_and_other_keys_are_refused() {
    let root = ca("Teststad platform CA", None);
    let critical = leaf_with(&["budget.example"], &root, |p| {
        let mut ext = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
        ext.set_criticality(true);
        p.custom_extensions = vec![ext];
    });
    assert_eq!(
        Certificate::parse(critical.cert.der()).err(),
        Some(Error::Certificate("unknown critical extension"))
    );
    let harmless = leaf_with(&["budget.example"], &root, |p| {
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 99999, 1],
            vec![5, 0],
        )];
    });
    assert!(Certificate::parse(harmless.cert.der()).is_ok());
    // Ed25519 keys and signatures are read.
    let ed = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let mut params = CertificateParams::new(vec!["ed.example".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2027, 1, 1);
    let ed_leaf =
        Certificate::parse(params.signed_by(&ed, &root.cert, &root.key).unwrap().der()).unwrap();
    assert_eq!(
        ed_leaf.verifying_key().unwrap().algorithm(),
        Algorithm::EdDsa
    );
    assert!(verify_chain(&[ed_leaf], &[parsed(&root)], NOW).is_ok());
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let root = ca("Teststad platform CA", None);
    let der = root.cert.der().to_vec();
    for cut in 0..der.len() {
        assert!(Certificate::parse(&der[..cut]).is_err());
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(Certificate::parse(&trailing).is_err());
    for bad in [
        &[][..],
        &[0x30],
        &[0x30, 0x84, 0, 0, 0, 1],
        &[0x30, 0x81, 0x05],
    ] {
        assert!(Certificate::parse(bad).is_err());
    }
    assert!(Certificate::from_x5c("not base64!").is_err());
    assert_eq!(
        verify_chain(&[], &[parsed(&root)], NOW).err(),
        Some(Error::Certificate("empty chain"))
    );
}

#[test]
fn times_are_read_in_both_forms() {
    let utc = [
        0x17, 13, b'4', b'9', b'1', b'2', b'3', b'1', b'2', b'3', b'5', b'9', b'5', b'9', b'Z',
    ];
    assert_eq!(time(&mut Der(&utc)).unwrap(), 2_524_607_999);
    let generalized = b"\x18\x0f20500101000000Z";
    assert_eq!(time(&mut Der(generalized)).unwrap(), 2_524_608_000);
    let utc_1950 = b"\x17\x0d500101000000Z";
    assert_eq!(time(&mut Der(utc_1950)).unwrap(), -631_152_000);
    for bad in [
        &b"\x17\x0d501301000000Z"[..],
        b"\x17\x0b5001010000Z",
        b"\x17\x0d500101000000+",
    ] {
        assert!(time(&mut Der(bad)).is_err());
    }
}

#[test]
fn a_pkcs8_key_from_a_certificate_tool_signs_for_its_certificate() {
    use crate::crypto::{JwsSigner, SigningKey};
    let root = ca("Teststad platform CA", None);
    let leaf = leaf_with(&["budget.example"], &root, |_| {});
    let key = SigningKey::from_pkcs8(&leaf.key.serialize_der()).unwrap();
    let signature = key.sign(b"hello").unwrap();
    parsed(&leaf)
        .verifying_key()
        .unwrap()
        .verify(Algorithm::Es256, b"hello", &signature)
        .unwrap();
    let ed = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    assert!(SigningKey::from_pkcs8(&ed.serialize_der()).is_err());
    assert!(SigningKey::from_pkcs8(b"\x30\x03\x02\x01\x00").is_err());
}
