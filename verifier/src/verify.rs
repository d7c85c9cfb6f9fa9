//! [`Verifier`]: checks a `vp_token` against a session, in order: format, trust list, issuer keys,
//! signature and SD-JWT VC rules (civic-credential), key binding to our client id and nonce,
//! municipality, status, pseudonym, and the policy. Claims the policy did not ask for are dropped
//! before anything reads them.

use std::sync::Arc;

use serde_json::{Map, Value};

use civic_credential::oid4vp::parse_vp_token;
use civic_credential::sd_jwt::{ClaimPath, PathElement, SdJwt};
use civic_credential::sd_jwt_vc::{self, KeyBindingRequirement, VerifyOptions};
use civic_credential::status_list::Status;

use crate::analytics::Cohort;
use crate::eligibility::Eligibility;
use crate::fetch::Fetcher;
use crate::keys::KeyResolver;
use crate::policy::pseudonym_path;
use crate::rejection::Rejection;
use crate::session::{municipality_path, Session, QUERY_ID};
use crate::status::StatusLists;
use crate::trust::TrustList;

/// Tunables of verification.
#[derive(Debug, Clone, Copy)]
pub struct VerifierOptions {
    /// Allowed clock difference with issuers and wallets, in seconds.
    pub clock_skew: i64,
    /// How old a KB-JWT may be, in seconds.
    pub kb_max_age: i64,
    /// Accept when a status list cannot be fetched (default: fail closed).
    pub status_fail_open: bool,
    /// After an unknown key id, refetch the issuer's keys if they are older than this (seconds).
    pub key_refresh_secs: i64,
    /// Development only: fetch trust material over plain http from this machine (issuers on
    /// `http://localhost`). Off: https only.
    pub allow_loopback_http: bool,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            clock_skew: 60,
            kb_max_age: 300,
            status_fail_open: false,
            key_refresh_secs: 60,
            allow_loopback_http: false,
        }
    }
}

/// Verifies presentations for any number of sessions; share one per process.
pub struct Verifier {
    trust: Arc<TrustList>,
    keys: KeyResolver,
    status: StatusLists,
    opts: VerifierOptions,
}

impl Verifier {
    /// A verifier over `trust`, fetching trust material with `fetcher`.
    pub fn new(trust: TrustList, fetcher: Arc<dyn Fetcher>, opts: VerifierOptions) -> Self {
        let ttl = trust.key_cache_secs;
        Verifier {
            trust: Arc::new(trust),
            keys: KeyResolver::new(
                fetcher.clone(),
                ttl,
                opts.key_refresh_secs,
                opts.allow_loopback_http,
            ),
            status: StatusLists::new(fetcher, opts.clock_skew, opts.allow_loopback_http),
            opts,
        }
    }

    /// The trust list.
    pub fn trust_list(&self) -> &TrustList {
        &self.trust
    }

    /// Checks `vp_token` (the `direct_post` form field) for `session` at time `now`.
    pub async fn verify(
        &self,
        vp_token: &str,
        session: &Session,
        now: i64,
    ) -> Result<Eligibility, Rejection> {
        self.verify_with_cohort(vp_token, session, now)
            .await
            .map(|(eligibility, _)| eligibility)
    }

    /// [`Verifier::verify`], with the coarse attributes the policy asked for (district, age
    /// band) for the analytics' counts; they are not part of the platform's answer.
    pub async fn verify_with_cohort(
        &self,
        vp_token: &str,
        session: &Session,
        now: i64,
    ) -> Result<(Eligibility, Cohort), Rejection> {
        if session.expires <= now {
            return Err(Rejection::SessionExpired);
        }
        let token =
            parse_vp_token(vp_token).map_err(|e| Rejection::MalformedResponse(e.to_string()))?;
        let presentation = match token.get(QUERY_ID).map(Vec::as_slice) {
            None | Some([]) => return Err(Rejection::MissingPresentation(QUERY_ID.into())),
            Some([one]) => one,
            Some(_) => return Err(Rejection::TooManyPresentations(QUERY_ID.into())),
        };

        // Parsed once. Who claims to have issued it is read before any crypto, so that only
        // trusted issuers are ever looked up.
        let sd = SdJwt::parse(presentation)?;
        let claim = |k: &str| {
            sd.jwt
                .payload
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (iss, vct) = (claim("iss"), claim("vct"));
        let issuer = self
            .trust
            .issuer(&iss)
            .ok_or_else(|| Rejection::UntrustedIssuer(iss.clone()))?;
        if !issuer.allows_vct(&vct) || (!session.vct.is_empty() && !session.vct.contains(&vct)) {
            return Err(Rejection::VctNotAllowed(vct));
        }
        let keys = self
            .keys
            .keys(issuer, now)
            .await
            .map_err(|e| keys_unavailable(&iss, e))?;

        let opts = VerifyOptions {
            now,
            clock_skew: self.opts.clock_skew,
            expected_vct: Some(&vct),
            key_binding: Some(KeyBindingRequirement {
                aud: &session.client_id,
                nonce: &session.nonce,
                max_age: self.opts.kb_max_age,
            }),
        };
        // The parsed presentation is handed over, so its claims move instead of being copied.
        let (keys, verified) = match sd_jwt_vc::verify_owned(sd, keys.as_ref(), &opts) {
            // The issuer may have rotated its key since we cached its key set: fetch it again once.
            Err(civic_credential::Error::IssuerKeyNotFound { .. })
                if self.keys.refresh(issuer, now) =>
            {
                let keys = self
                    .keys
                    .keys(issuer, now)
                    .await
                    .map_err(|e| keys_unavailable(&iss, e))?;
                let sd = SdJwt::parse(presentation)?;
                let verified = sd_jwt_vc::verify_owned(sd, keys.as_ref(), &opts)?;
                (keys, verified)
            }
            other => (keys, other?),
        };

        // Keep only what the policy asked for; note whether the wallet sent more.
        // (Borrowed: this runs for every presentation.)
        let pseudonym_at = session
            .policy
            .pseudonym
            .then(|| pseudonym_path(&session.platform_id));
        let mut requested = session.policy.rule_claims();
        requested.extend(pseudonym_at.as_ref());
        // An issuer trusted for some municipalities only: the code is checked on every
        // presentation, whatever the policy asks.
        let municipality_at = municipality_path();
        let restricted = !issuer.municipality_codes.is_empty();
        if restricted && !requested.iter().any(|r| r.covers(&municipality_at)) {
            requested.push(&municipality_at);
        }
        let over_disclosed = verified
            .disclosed
            .iter()
            .any(|d| !requested.iter().any(|r| r.passes_through(d) || r.covers(d)));
        let (status, exp) = (verified.status, verified.exp);
        let claims = select(verified.claims, &requested);
        let predicates = session.policy.evaluate(&claims);
        let selected = Value::Object(claims);
        let cohort = Cohort::of(&session.policy, &selected);

        let municipality = municipality_at.lookup(&selected).and_then(Value::as_str);
        match municipality {
            Some(code) if !issuer.allows_municipality(code) => {
                return Err(Rejection::MunicipalityNotAllowed(code.to_owned()));
            }
            None if restricted => return Err(Rejection::MunicipalityNotDisclosed),
            _ => {}
        }

        // A credential without a status reference cannot be checked for revocation.
        let status_checked = match &status {
            None => false,
            Some(s) => {
                let r = &s.status_list;
                match self
                    .status
                    .status(issuer, keys.clone(), &r.uri, r.idx, now)
                    .await
                {
                    Ok(Status::Valid) => true,
                    Ok(Status::Invalid) => return Err(Rejection::Revoked),
                    Ok(Status::Suspended) => return Err(Rejection::Suspended),
                    Ok(other) => return Err(Rejection::UnknownStatus(other.value())),
                    Err(e) if self.opts.status_fail_open => {
                        tracing::warn!(issuer = %iss, error = %e, "status not checked (status_fail_open)");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(issuer = %iss, error = %e, "status unavailable");
                        return Err(Rejection::StatusUnavailable(e));
                    }
                }
            }
        };

        let pseudonym = match &pseudonym_at {
            Some(at) => {
                let p = at
                    .lookup(&selected)
                    .and_then(Value::as_str)
                    .ok_or(Rejection::PseudonymMissing)?;
                Some(p.to_owned())
            }
            None => None,
        };

        Ok((
            Eligibility {
                eligible: predicates.iter().all(|p| p.satisfied),
                predicates,
                pseudonym,
                issuer: iss,
                credential_expires_at: exp,
                over_disclosed,
                status_checked,
            },
            cohort,
        ))
    }
}

/// The claims holding only the values at `paths` (moved out of `claims`, not copied). Paths
/// through arrays are left out: policies name object members only.
fn select(mut claims: Map<String, Value>, paths: &[&ClaimPath]) -> Map<String, Value> {
    let mut out = Map::new();
    for path in paths {
        let keys: Option<Vec<&str>> = path
            .0
            .iter()
            .map(|e| match e {
                PathElement::Key(k) => Some(k.as_str()),
                _ => None,
            })
            .collect();
        let Some((last, parents)) = keys.as_deref().and_then(<[&str]>::split_last) else {
            continue;
        };
        let Some(value) = object_at(&mut claims, parents, false).and_then(|m| m.remove(*last))
        else {
            continue; // not disclosed, or already taken with a path above it
        };
        let Some(target) = object_at(&mut out, parents, true) else {
            continue;
        };
        match (target.get_mut(*last), value) {
            // A path below this one was taken first: keep what it took.
            (Some(Value::Object(taken)), Value::Object(rest)) => {
                for (k, v) in rest {
                    taken.entry(k).or_insert(v);
                }
            }
            (_, value) => {
                target.insert((*last).to_owned(), value);
            }
        }
    }
    out
}

/// The object at `keys` below `root`, made on the way if `create` is set.
fn object_at<'m>(
    root: &'m mut Map<String, Value>,
    keys: &[&str],
    create: bool,
) -> Option<&'m mut Map<String, Value>> {
    let mut cursor = root;
    for k in keys {
        let slot = if create {
            cursor
                .entry((*k).to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
        } else {
            cursor.get_mut(*k)?
        };
        match slot {
            Value::Object(m) => cursor = m,
            _ => return None,
        }
    }
    Some(cursor)
}

/// The issuer's keys could not be had: the reason goes to the log, not to the wallet.
fn keys_unavailable(issuer: &str, detail: String) -> Rejection {
    tracing::warn!(issuer, error = %detail, "issuer keys unavailable");
    Rejection::IssuerKeysUnavailable(detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        let v = json!({
            "iss": "https://id.example",
            "residence": { "municipality_code": "0363", "district": "3", "street": "Dam 1" },
            "age_equal_or_over": { "16": true, "18": false },
            "pseudonyms": { "https://budget.example": "p-123" },
            "nationalities": ["NL"],
        });
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn select_keeps_only_the_requested_paths_in_any_order() {
        let code = ClaimPath::keys(["residence", "municipality_code"]);
        let residence = ClaimPath::keys(["residence"]);
        let age = ClaimPath::keys(["age_equal_or_over", "16"]);
        let missing = ClaimPath::keys(["residence", "postcode"]);
        let through_array = ClaimPath(vec![
            PathElement::Key("nationalities".into()),
            PathElement::Index(0),
        ]);
        assert_eq!(
            Value::Object(select(claims(), &[&code, &age, &missing, &through_array])),
            json!({ "residence": { "municipality_code": "0363" },
                    "age_equal_or_over": { "16": true } })
        );
        let whole = json!({ "residence": {
            "municipality_code": "0363", "district": "3", "street": "Dam 1" } });
        // A path and one below it give the whole object, whichever comes first.
        assert_eq!(Value::Object(select(claims(), &[&code, &residence])), whole);
        assert_eq!(Value::Object(select(claims(), &[&residence, &code])), whole);
        assert_eq!(select(claims(), &[]), Map::new());
    }
}
