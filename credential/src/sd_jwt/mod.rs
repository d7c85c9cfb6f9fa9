//! Selective Disclosure for JWTs (RFC 9901): issuance, presentation and verification.
//!
//! The SD-JWT VC profile on top of this lives in [`crate::sd_jwt_vc`].

mod disclosure;
mod issue;
mod path;
mod present;
mod process;

pub use disclosure::{Disclosure, SALT_BYTES};
pub use issue::{conceal, Concealed};
pub use path::{ClaimPath, PathElement};
pub use present::select_disclosures;
pub use process::{process, process_owned, DisclosedClaim, Processed, MAX_DEPTH, MAX_DISCLOSURES};

use crate::crypto::VerifyingKey;
use crate::encoding::MAX_TOKEN_BYTES;
use crate::error::{Error, Result};
use crate::jws::Jws;

/// A parsed SD-JWT (`<issuer-jwt>~<disclosure>~…~[<kb-jwt>]`). Nothing is verified by parsing.
#[derive(Debug, Clone)]
pub struct SdJwt<'a> {
    /// The issuer-signed JWT.
    pub jwt: Jws<'a>,
    /// The disclosures, in the order given.
    pub disclosures: Vec<Disclosure>,
    /// The key-binding JWT, if the serialization ends with one.
    pub kb_jwt: Option<&'a str>,
    /// Everything before the KB-JWT, ending in `~`: the input of the KB-JWT's `sd_hash`.
    pub hashed_part: &'a str,
}

impl<'a> SdJwt<'a> {
    /// Parses the compact serialization.
    pub fn parse(text: &'a str) -> Result<Self> {
        if text.len() > MAX_TOKEN_BYTES {
            return Err(Error::TooLarge("SD-JWT"));
        }
        let tildes = text.bytes().filter(|&b| b == b'~').count();
        if tildes > MAX_DISCLOSURES + 1 {
            return Err(Error::TooLarge("too many disclosures"));
        }
        let last_tilde = text
            .rfind('~')
            .ok_or(Error::MalformedSdJwt("no '~' separator"))?;
        let hashed_part = &text[..=last_tilde];
        let kb = &text[last_tilde + 1..];
        let mut parts = text[..last_tilde].split('~');
        let jwt = Jws::parse(parts.next().unwrap_or_default())?;
        let mut disclosures = Vec::with_capacity(tildes.saturating_sub(1));
        for p in parts {
            if p.is_empty() {
                return Err(Error::MalformedSdJwt("empty disclosure"));
            }
            disclosures.push(Disclosure::parse(p)?);
        }
        Ok(SdJwt {
            jwt,
            disclosures,
            kb_jwt: (!kb.is_empty()).then_some(kb),
            hashed_part,
        })
    }

    /// Verifies the issuer signature with `issuer_key`, then processes the disclosures.
    pub fn verify(&self, issuer_key: &VerifyingKey) -> Result<Processed> {
        self.jwt.verify(issuer_key)?;
        process(&self.jwt.payload, &self.disclosures)
    }

    /// The issuer-signed JWT text.
    pub fn issuer_jwt(&self) -> &'a str {
        let end = self.hashed_part.find('~').unwrap_or(self.hashed_part.len());
        &self.hashed_part[..end]
    }
}

/// Writes `<issuer-jwt>~<d1>~…~` for the chosen disclosures, ready for a KB-JWT.
pub fn serialize<'d>(
    issuer_jwt: &str,
    disclosures: impl IntoIterator<Item = &'d Disclosure>,
) -> String {
    let mut out = String::from(issuer_jwt);
    out.push('~');
    for d in disclosures {
        out.push_str(&d.encoded);
        out.push('~');
    }
    out
}

#[cfg(test)]
mod tests;
