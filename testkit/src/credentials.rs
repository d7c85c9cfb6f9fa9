//! Residency credentials without a server: a test issuer key, test residents of any age, and the
//! presentations a wallet makes of them.

use std::collections::BTreeMap;

use serde_json::json;

use civic_credential::crypto::{Algorithm, JwsSigner, SigningKey};
use civic_credential::jwk::Jwk;
use civic_credential::pseudonym::pairwise_pseudonym;
use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt::ClaimPath;
use civic_credential::sd_jwt_vc::{self, CredentialSpec};
use civic_credential::status_list::{StatusListRef, StatusReference};

/// The test issuer's identifier (`iss`).
pub const ISSUER: &str = "https://id.teststad.example";
/// The residency credential type of [`ISSUER`].
pub const VCT: &str = "https://id.teststad.example/credentials/residency";
/// The platforms the credentials carry pseudonyms for (those of the example configurations).
pub const PLATFORMS: [&str; 3] = [
    "https://budget.teststad.example",
    "https://consult.teststad.example",
    "https://deliberation.teststad.example",
];
/// The test issuer's pseudonym secret (pseudonyms are HMACs under it).
const PSEUDONYM_SECRET: &[u8] = b"test issuer pseudonym secret";

/// What goes into a credential besides the issuer.
pub struct Contents<'a> {
    /// Whom it is about.
    pub record: &'a ResidentRecord,
    /// The holder's public key (`cnf.jwk`).
    pub holder: &'a Jwk,
    /// Issued at.
    pub iat: i64,
    /// The day `age_equal_or_over` is computed for (usually `iat`).
    pub today: i64,
    /// Not before, if set.
    pub nbf: Option<i64>,
    /// Expiry.
    pub exp: i64,
    /// The status list reference (URI and index), if any.
    pub status: Option<(&'a str, u64)>,
    /// Platform id → pseudonym.
    pub pseudonyms: BTreeMap<String, String>,
}

/// Issues a residency credential as the issuer does: every claim selectively disclosable, two
/// decoys per `_sd`, salts from the thread's CSPRNG. Returns the issuance form (every
/// disclosure).
pub fn issue(issuer: &SigningKey, iss: &str, vct: &str, contents: &Contents<'_>) -> String {
    let claims = ResidencyClaims::new(
        contents.record,
        Date::from_unix(contents.today),
        contents.pseudonyms.clone(),
    );
    let paths = claims.disclosable_paths();
    let spec = CredentialSpec {
        issuer: iss,
        vct,
        iat: contents.iat,
        nbf: contents.nbf,
        exp: contents.exp,
        holder_key: contents.holder,
        status: contents.status.map(|(uri, idx)| StatusReference {
            status_list: StatusListRef {
                idx,
                uri: uri.to_owned(),
            },
        }),
        claims: claims.to_claims().expect("claims"),
        disclosable: &paths,
        decoys: 2,
    };
    sd_jwt_vc::issue(&spec, issuer, &mut rand::thread_rng()).expect("issue")
}

/// The claims a platform's residency policy asks for: municipality code, 16 or older, and the
/// platform's pseudonym.
pub fn requested_paths(platform: &str) -> Vec<ClaimPath> {
    vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", platform]),
    ]
}

/// A fresh holder key.
pub fn holder_key() -> SigningKey {
    SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key")
}

/// One credential copy in a wallet: the issuance form and its holder key.
pub struct Credential {
    /// The credential as issued (every disclosure).
    pub issued: String,
    /// Its holder key.
    pub holder: SigningKey,
}

impl Credential {
    /// A presentation of `paths` bound to `aud` and `nonce` at `iat`.
    pub fn present(&self, paths: &[ClaimPath], aud: &str, nonce: &str, iat: i64) -> String {
        let holder: &dyn JwsSigner = &self.holder;
        sd_jwt_vc::present(&self.issued, paths, Some((holder, aud, nonce, iat)))
            .expect("presentation")
    }
}

/// A `vp_token` answering DCQL query `query_id` with `presentation`.
pub fn vp_token(query_id: &str, presentation: &str) -> String {
    json!({ query_id: [presentation] }).to_string()
}

/// An issuer key that issues credentials without a server; [`TestIssuer::trust_list`] publishes
/// it inline, so a verifier fetches nothing.
pub struct TestIssuer {
    key: SigningKey,
    /// Platforms added after creation (an example app's own origin, known once it listens).
    added: std::sync::Mutex<Vec<String>>,
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl TestIssuer {
    /// A fresh ES256 key (kid `key-1`).
    pub fn new() -> Self {
        let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng)
            .expect("issuer key")
            .with_kid("key-1");
        TestIssuer {
            key,
            added: std::sync::Mutex::default(),
        }
    }

    /// Issues pseudonyms for platform `id` too, from now on.
    pub fn add_platform(&self, id: &str) {
        self.added.lock().expect("platforms").push(id.to_owned());
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// A trust list (JSON) with this issuer for municipality 0363 and its key inline.
    pub fn trust_list(&self) -> String {
        let jwk = self.key.public_jwk().clone().with_kid("key-1");
        json!({
            "issuer": [{
                "id": ISSUER,
                "vct": [VCT],
                "municipality_codes": ["0363"],
                "jwks": { "keys": [jwk] },
            }]
        })
        .to_string()
    }

    /// A credential for `record` (register id `subject`) issued a minute before `now`, valid 30
    /// days, without a status reference, with pseudonyms for [`PLATFORMS`] and the added ones,
    /// bound to a fresh holder key.
    pub fn issue(&self, record: &ResidentRecord, subject: &str, now: i64) -> Credential {
        let holder = holder_key();
        let added = self.added.lock().expect("platforms").clone();
        let pseudonyms = PLATFORMS
            .iter()
            .map(|p| p.to_string())
            .chain(added)
            .map(|p| {
                let value = pseudonym(&p, subject);
                (p, value)
            })
            .collect();
        let issued = issue(
            &self.key,
            ISSUER,
            VCT,
            &Contents {
                record,
                holder: holder.public_jwk(),
                iat: now - 60,
                today: now,
                nbf: None,
                exp: now + 30 * 86_400,
                status: None,
                pseudonyms,
            },
        );
        Credential { issued, holder }
    }
}

/// The pseudonym the test issuer gives `subject` for `platform`.
pub fn pseudonym(platform: &str, subject: &str) -> String {
    pairwise_pseudonym(PSEUDONYM_SECRET, platform, subject)
}

/// A fictional resident of Teststad with this birthdate, municipality code and district.
pub fn resident(
    given_name: &str,
    birthdate: Date,
    code: &str,
    district: Option<&str>,
) -> ResidentRecord {
    ResidentRecord {
        given_name: given_name.into(),
        family_name: "Zwanenburg".into(),
        birthdate,
        address: Address {
            street_address: "Lindengracht 77".into(),
            locality: "Teststad".into(),
            postal_code: "1015 KD".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Teststad".into(),
            municipality_code: code.into(),
            district: district.map(Into::into),
        },
        resident_since: Date::parse("2011-05-01").expect("date"),
    }
}

/// A birthdate that makes someone `years` old at `now` (their birthday was 10 days ago).
pub fn aged(years: i32, now: i64) -> Date {
    let today = Date::from_unix(now);
    let birthday = Date {
        year: today.year - years,
        ..today
    };
    Date::from_unix(birthday.to_unix() - 10 * 86_400)
}

/// A birthdate that makes someone `years - 1` old at `now`: they turn `years` in 10 days.
pub fn almost(years: i32, now: i64) -> Date {
    let today = Date::from_unix(now);
    let birthday = Date {
        year: today.year - years,
        ..today
    };
    Date::from_unix(birthday.to_unix() + 10 * 86_400)
}
