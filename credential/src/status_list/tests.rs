use rand::rngs::OsRng;

use super::*;
use crate::crypto::{Algorithm, SigningKey};

#[test]
fn get_set_for_every_width() {
    for bits in [1u8, 2, 4, 8] {
        let mut list = StatusList::new(bits, 100).unwrap();
        assert_eq!(
            list.len() as usize,
            (100 * bits as usize).div_ceil(8) * 8 / bits as usize
        );
        list.set(3, Status::Invalid).unwrap();
        list.set(99, Status::from(1)).unwrap();
        assert_eq!(list.get(3).unwrap(), Status::Invalid);
        assert_eq!(list.get(4).unwrap(), Status::Valid);
        assert_eq!(list.get(99).unwrap(), Status::Invalid);
        let back = StatusList::from_lst(bits, &list.to_lst()).unwrap();
        assert_eq!(back, list);
    }
}

#[test]
fn lsb_first_layout() {
    let mut list = StatusList::new(2, 4).unwrap();
    list.set(0, Status::Invalid).unwrap();
    list.set(1, Status::Suspended).unwrap();
    list.set(3, Status::Other(3)).unwrap();
    assert_eq!(list.as_bytes(), &[0b11_00_10_01]);
}

#[test]
fn rejects_bad_bits_values_and_indexes() {
    assert_eq!(StatusList::new(3, 8), Err(Error::InvalidStatusBits(3)));
    assert_eq!(
        StatusList::from_lst(0, "eNrbuRgAAhcBXQ"),
        Err(Error::InvalidStatusBits(0))
    );
    let mut list = StatusList::new(1, 16).unwrap();
    assert_eq!(
        list.set(0, Status::Suspended),
        Err(Error::StatusValueTooLarge { value: 2, bits: 1 })
    );
    assert_eq!(
        list.get(16),
        Err(Error::StatusListIndexOutOfRange { idx: 16, len: 16 })
    );
    assert_eq!(
        list.set(u64::MAX, Status::Invalid),
        Err(Error::StatusListIndexOutOfRange {
            idx: u64::MAX,
            len: 16
        })
    );
}

#[test]
fn rejects_bad_compression_and_bombs() {
    assert_eq!(
        StatusList::from_lst(1, "AAAA"),
        Err(Error::StatusListCompression)
    );
    assert_eq!(StatusList::from_lst(1, "***"), Err(Error::Base64("lst")));
    // 32 MiB of zeros compresses to ~32 KiB: refused at the decompression limit.
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 2 * MAX_LIST_BYTES], 9);
    assert_eq!(
        StatusList::from_lst(1, &b64_encode(&bomb)),
        Err(Error::TooLarge("status list"))
    );
}

#[test]
fn token_round_trip_and_rules() {
    let key = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .unwrap()
        .with_kid("k");
    let mut list = StatusList::new(2, 1000).unwrap();
    list.set(7, Status::Suspended).unwrap();
    let token = StatusListToken {
        sub: "https://issuer.example/status/1".into(),
        iat: 1000,
        exp: Some(2000),
        ttl: Some(300),
        list,
    };
    let jwt = token.sign(&key).unwrap();
    let vk = key.verifying_key().unwrap();
    let back = StatusListToken::verify(&jwt, &vk, &token.sub, 1500, 60).unwrap();
    assert_eq!(back, token);
    assert_eq!(back.list.get(7).unwrap(), Status::Suspended);
    assert_eq!(
        StatusListToken::verify(&jwt, &vk, &token.sub, 2061, 60),
        Err(Error::StatusListExpired)
    );
    let other = SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap();
    assert_eq!(
        StatusListToken::verify(&jwt, &other.verifying_key().unwrap(), &token.sub, 1500, 60),
        Err(Error::InvalidSignature)
    );
    let wrong_typ = jws::sign("jwt", Map::new(), &Map::new(), &key).unwrap();
    assert!(matches!(
        StatusListToken::verify(&wrong_typ, &vk, &token.sub, 1500, 60),
        Err(Error::UnexpectedType { .. })
    ));
}
