//! Presentation requests (OID4VP 1.0 + DCQL): checking a request object, matching it against the
//! stored credentials, and explaining it in plain words for the consent screen.

use civic_credential::did_web::{self, DidDocument};
use civic_credential::jwe::ResponseEncryption;
use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::FORMAT_SD_JWT_VC;
use civic_credential::oid4vp::{
    is_x509_client, AuthorizationRequest, CertifiedVerifier, ClaimsQuery, CredentialQuery,
    LinkedRequest, RequestUriPost, DID_PREFIX, DIRECT_POST, DIRECT_POST_JWT, REDIRECT_URI_PREFIX,
};
use civic_credential::pseudonym;
use civic_credential::residency::labels::disclosure_sentence;
use civic_credential::sd_jwt::ClaimPath;
use civic_credential::x509::Certificate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::card::{authority_key_ids, card};
use crate::WalletError;

/// One requested claim, as the consent screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentItem {
    /// The claim path, dotted (`residence.municipality_code`).
    pub claim: String,
    /// What will be shared, in plain words ("Resident of municipality 0363").
    pub label: String,
    /// Whether the chosen credential has it.
    pub available: bool,
}

/// A checked request, ready for consent.
///
/// The page gets it as JSON and gives it back to answer ([`vp_token`], [`response_form`]); read
/// back, only the fields an answer needs are read (the consent screen's are left empty), which
/// keeps the wallet module small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedRequest {
    /// The verifier, as it identifies itself (the KB-JWT audience).
    pub client_id: String,
    /// The host its client id names, for the consent screen ([`verifier_host`]); for a
    /// certificate verifier, the `response_uri`'s host, which its certificate names.
    #[serde(skip_deserializing)]
    pub verifier: String,
    /// Whether the wallet verified who asks: a signed request whose signature checked against
    /// the verifier's DID document, or against a certificate whose chain leads to one of the
    /// wallet's trust anchors. A `redirect_uri:` request is not authenticated (anyone can
    /// send one naming any address), nor is a certificate the anchors do not vouch for, and the
    /// consent screen says so.
    #[serde(skip_deserializing)]
    pub authenticated: bool,
    /// The verified name of a certificate verifier (its certificate's organization).
    #[serde(skip_deserializing)]
    pub verifier_name: Option<String>,
    /// Why a certificate verifier is not authenticated, for the consent screen.
    #[serde(skip_deserializing)]
    pub unauthenticated_reason: Option<String>,
    /// The platform an anchored certificate proved (the origin of its `response_uri`): the only
    /// pseudonym such a verifier may get.
    #[serde(default)]
    pub platform: Option<String>,
    /// Where the answer goes.
    #[serde(skip_deserializing)]
    pub response_uri: String,
    /// The nonce to bind to.
    pub nonce: String,
    /// The state to echo.
    pub state: Option<String>,
    /// The DCQL credential query id (the `vp_token` key).
    pub query_id: String,
    /// The claim paths to disclose.
    pub paths: Vec<ClaimPath>,
    /// Each requested claim in plain words.
    #[serde(skip_deserializing)]
    pub items: Vec<ConsentItem>,
    /// Requested claims no stored credential has.
    #[serde(skip_deserializing)]
    pub missing: Vec<String>,
    /// Index (in the list given to [`prepare`]) of the credential that answers, if any.
    #[serde(skip_deserializing)]
    pub credential: Option<usize>,
    /// Why the wallet will not answer at all, for the consent screen (a verifier asking for
    /// another platform's pseudonym, or for several); `None` when it may.
    #[serde(default)]
    pub refused: Option<String>,
    /// The verifier's key and content encryption when it asked for an encrypted answer
    /// (`direct_post.jwt`); `None` for a plain `direct_post`.
    #[serde(default)]
    pub encryption: Option<ResponseEncryption>,
}

/// The plain-words label of a claim about to be shared (the core's consent sentences).
pub fn label(path: &ClaimPath, value: Option<&Value>) -> String {
    disclosure_sentence(path, value)
}

/// Who a verifier says it is, for people: the host its client identifier names
/// (`redirect_uri:https://host/…`, `x509_san_dns:host`, `decentralized_identifier:did:web:host`).
pub fn verifier_host(client_id: &str) -> String {
    let rest = [
        "redirect_uri:",
        "x509_san_dns:",
        "x509_hash:",
        "decentralized_identifier:",
        "origin:",
        "web-origin:",
    ]
    .iter()
    .find_map(|p| client_id.strip_prefix(p))
    .unwrap_or(client_id);
    if rest.starts_with(did_web::PREFIX) {
        return did_web::host_of(rest).unwrap_or_else(|_| rest.to_owned());
    }
    match rest.split_once("://") {
        Some((_, after)) => after
            .split(['/', '?', '#'])
            .next()
            .unwrap_or(after)
            .to_owned(),
        None => rest.to_owned(),
    }
}

/// What to fetch before [`prepare`], read from a request link in one pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FetchPlan {
    /// Where to fetch the request object; `None` when the link carries the request by value.
    pub request_uri: Option<String>,
    /// For a link that asks for `request_uri_method=post`: the form body to POST to
    /// `request_uri` and the `wallet_nonce` in it, which [`prepare`] checks the request echoes.
    pub post: Option<PostBody>,
    /// The verifier's DID document, for a link that names a `decentralized_identifier:` client.
    /// A did:web on this device's loopback address is read over plain http (a verifier under
    /// development beside the wallet); every other over https.
    pub did_document_url: Option<String>,
}

/// The body of a `request_uri` POST (OpenID4VP §5.10), and the nonce in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostBody {
    /// `wallet_metadata` and `wallet_nonce`, form-encoded.
    pub form: String,
    /// The fresh nonce the request must echo.
    pub wallet_nonce: String,
}

/// Reads `link` (by reference, a request object by value, or parameters by value) and says
/// what to fetch for it.
pub fn fetch_plan(link: &str) -> Result<FetchPlan, WalletError> {
    let link = read_link(link)?;
    let did_document_url = match link.client_id().strip_prefix(DID_PREFIX) {
        Some(did) => Some(
            did_web::resolution_url(did, true)
                .map_err(|e| WalletError::new("invalid_request", e.to_string()))?,
        ),
        None => None,
    };
    let (request_uri, post) = match link {
        LinkedRequest::ByReference(l) => {
            let post = if l.wants_post() {
                let body = request_uri_post()?;
                Some(PostBody {
                    form: body.to_form(),
                    wallet_nonce: body.wallet_nonce.unwrap_or_default(),
                })
            } else {
                None
            };
            (Some(l.request_uri), post)
        }
        LinkedRequest::Object { .. } | LinkedRequest::Parameters(_) => (None, None),
    };
    Ok(FetchPlan {
        request_uri,
        post,
        did_document_url,
    })
}

/// Reads a request link: by reference, a request object by value, or parameters by value.
fn read_link(link: &str) -> Result<LinkedRequest, WalletError> {
    LinkedRequest::parse(link).map_err(|e| WalletError::new("invalid_request", e.to_string()))
}

/// This wallet's metadata (OpenID4VP §10), sent when it fetches a request by POST.
const WALLET_METADATA: &str = r#"{
  "vp_formats_supported": {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256", "EdDSA"], "kb-jwt_alg_values": ["ES256"]}
  },
  "client_id_prefixes_supported":
    ["redirect_uri", "decentralized_identifier", "x509_hash", "x509_san_dns"],
  "request_object_signing_alg_values_supported": ["ES256", "EdDSA"],
  "authorization_encryption_alg_values_supported": ["ECDH-ES"],
  "authorization_encryption_enc_values_supported": ["A128GCM", "A256GCM"]
}"#;

/// What this wallet POSTs to a `request_uri` whose link says `request_uri_method=post`
/// (OpenID4VP §5.10): a fresh `wallet_nonce` the request must echo (checked by [`prepare`]),
/// and the wallet's metadata.
pub fn request_uri_post() -> Result<RequestUriPost, WalletError> {
    let mut nonce = [0u8; 24];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut nonce)
        .map_err(|_| WalletError::new("no_randomness", "no random numbers"))?;
    // Parsed from text: the json! macro would expand into code for every key (the wallet
    // module's size budget).
    let metadata: Option<Map<String, Value>> = serde_json::from_str(WALLET_METADATA).ok();
    Ok(RequestUriPost {
        wallet_nonce: Some(civic_credential::encoding::b64_encode(&nonce)),
        wallet_metadata: metadata,
    })
}

/// The wallet's trust anchors for certificate verifiers (the CA certificates of the
/// municipality's platform registry), and the time to check chains at.
#[derive(Debug, Default)]
pub struct Anchors {
    certificates: Vec<Certificate>,
    now: i64,
}

impl Anchors {
    /// Reads anchors given as `x5c` entries (standard base64 of the DER), checked at `now`
    /// (seconds since the epoch). An entry that is not a certificate vouches for nothing and is
    /// left out: the anchors come from registries over the network, and one bad entry must not
    /// stop the wallet from answering every other verifier.
    pub fn parse(x5c: &[String], now: i64) -> Self {
        let certificates = x5c
            .iter()
            .filter_map(|c| Certificate::from_x5c(c).ok())
            .collect();
        Anchors { certificates, now }
    }
}

/// Checks a request and matches it against `credentials` (issuance forms): the first whose
/// type is accepted and that holds every requested claim (with an allowed value) answers. The
/// request is `request_object`, fetched from the link's `request_uri` ([`request_uri`]), or
/// the one the link carries by value (then `request_object` is not read). A `redirect_uri:`
/// client's request is unsigned; a `decentralized_identifier:` client's is verified with
/// `did_document`, the document fetched from [`FetchPlan::did_document_url`]; an `x509_hash:` or
/// `x509_san_dns:` client's is checked against its `x5c` chain and `anchors`. A request for a
/// pseudonym other than the verifier's own is marked [`PreparedRequest::refused`].
pub fn prepare(
    request_object: &str,
    link: &str,
    did_document: Option<&Value>,
    credentials: &[String],
    wallet_nonce: Option<&str>,
    anchors: &Anchors,
) -> Result<PreparedRequest, WalletError> {
    let link = read_link(link)?;
    let (request_object, link_client_id) = match &link {
        LinkedRequest::ByReference(l) => (request_object, l.client_id.as_str()),
        LinkedRequest::Object { client_id, request } => (request.as_str(), client_id.as_str()),
        LinkedRequest::Parameters(req) => ("", req.client_id.as_str()),
    };
    let bad_object =
        |e: civic_credential::Error| WalletError::new("invalid_request_object", e.to_string());
    // Only a signed request verified against its DID document, or against a certificate the
    // anchors vouch for, names its sender with proof.
    let mut authenticated = link_client_id.starts_with(DID_PREFIX);
    let mut certified = None;
    let req = if let LinkedRequest::Parameters(req) = &link {
        // Read and checked with the link: unsigned, so only for a redirect_uri: client.
        req.as_ref().clone()
    } else if let Some(did) = link_client_id.strip_prefix(DID_PREFIX) {
        let doc = did_document.ok_or_else(|| {
            WalletError::new(
                "invalid_request_object",
                "the verifier's DID document was not given",
            )
        })?;
        let doc = DidDocument::parse(doc, did)
            .map_err(|e| WalletError::new("invalid_request_object", e.to_string()))?;
        AuthorizationRequest::from_jwt_with_did_document(request_object, &doc)
            .map_err(bad_object)?
    } else if is_x509_client(link_client_id) {
        let (req, trust) = AuthorizationRequest::from_jwt_with_x5c(
            request_object,
            &anchors.certificates,
            anchors.now,
        )
        .map_err(bad_object)?;
        authenticated = matches!(trust, CertifiedVerifier::Anchored { .. });
        certified = Some(trust);
        req
    } else if link_client_id.starts_with(REDIRECT_URI_PREFIX) {
        AuthorizationRequest::from_jwt(request_object, None).map_err(bad_object)?
    } else {
        return Err(WalletError::new(
            "invalid_client",
            "this wallet answers redirect_uri:, decentralized_identifier:, x509_hash: and \
             x509_san_dns: verifiers only",
        ));
    };
    let (verifier_name, platform, unauthenticated_reason) = match certified {
        Some(CertifiedVerifier::Anchored { name, platform }) => (Some(name), Some(platform), None),
        Some(CertifiedVerifier::Unanchored { reason }) => (None, None, Some(reason)),
        None => (None, None, None),
    };
    let encryption = match req.response_mode.as_str() {
        DIRECT_POST => None,
        DIRECT_POST_JWT => Some(
            ResponseEncryption::from_client_metadata(req.client_metadata.as_ref()).map_err(
                |e| {
                    WalletError::new(
                        "invalid_request",
                        format!(
                            "the verifier wants an encrypted answer but gives no key this \
                             wallet can encrypt to ({e}); it will not answer in plain text"
                        ),
                    )
                },
            )?,
        ),
        other => {
            return Err(WalletError::new(
                "invalid_request",
                format!("unknown response_mode {other:?}"),
            ))
        }
    };
    if let Some(sent) = wallet_nonce {
        if req.wallet_nonce.as_deref() != Some(sent) {
            return Err(WalletError::new(
                "invalid_request_object",
                "the request does not carry the nonce this wallet sent for it (an old or \
                 replayed request)",
            ));
        }
    }
    if req.client_id != link_client_id {
        return Err(WalletError::new(
            "invalid_request_object",
            "the request's client_id is not the link's",
        ));
    }
    // The ways to answer with one credential (credential_sets, claim_sets), best first.
    let answers: Vec<(&CredentialQuery, Vec<&ClaimsQuery>)> = req
        .dcql_query
        .one_credential_answers()
        .map_err(|e| {
            WalletError::new(
                "invalid_request",
                format!("{e}; this wallet presents one credential at a time"),
            )
        })?
        .into_iter()
        .filter(|(q, _)| q.format == FORMAT_SD_JWT_VC)
        .collect();
    if answers.is_empty() {
        return Err(WalletError::new(
            "vp_formats_not_supported",
            "no SD-JWT VC is asked for",
        ));
    }
    // An option that names no claims would share everything: it is never taken, but another
    // option of the same request still may be.
    let answers: Vec<_> = answers.into_iter().filter(|(_, c)| !c.is_empty()).collect();
    let every_path: Vec<ClaimPath> = req
        .dcql_query
        .credentials
        .iter()
        .flat_map(|q| q.requested_paths())
        .collect();
    let refused = pseudonym::check_request(&every_path, &req.client_id, platform.as_deref())
        .err()
        .map(|e| e.to_string());
    // The first answer a stored credential meets in full; else the first, so the consent
    // screen can say what is missing.
    let mut chosen: Option<(&CredentialQuery, Vec<&ClaimsQuery>, Option<Match>)> = None;
    for (query, claims) in answers {
        let best = best_match(query, &claims, credentials);
        let complete = best.as_ref().is_some_and(|m| m.held == claims.len());
        if complete || chosen.is_none() {
            chosen = Some((query, claims, best));
        }
        if complete {
            break;
        }
    }
    let Some((query, claims, best)) = chosen else {
        return Err(WalletError::new(
            "invalid_request",
            "the request names no claims; the wallet never shares everything",
        ));
    };
    let paths: Vec<ClaimPath> = claims.iter().map(|c| c.path.clone()).collect();
    let complete = best.as_ref().is_some_and(|m| m.held == claims.len());
    let root = best.as_ref().map(|m| m.root.clone()).unwrap_or(Value::Null);
    let items: Vec<ConsentItem> = paths
        .iter()
        .map(|p| {
            let v = p.lookup(&root);
            ConsentItem {
                claim: p.to_string(),
                label: label(p, v),
                available: v.is_some(),
            }
        })
        .collect();
    let missing: Vec<String> = items
        .iter()
        .filter(|i| !i.available)
        .map(|i| i.claim.clone())
        .collect();
    Ok(PreparedRequest {
        verifier: if is_x509_client(&req.client_id) {
            verifier_host(&req.response_uri)
        } else {
            verifier_host(&req.client_id)
        },
        authenticated,
        verifier_name,
        unauthenticated_reason,
        platform,
        client_id: req.client_id,
        response_uri: req.response_uri,
        nonce: req.nonce,
        state: req.state,
        query_id: query.id.clone(),
        paths,
        credential: best
            .filter(|_| complete && refused.is_none())
            .map(|m| m.index),
        missing,
        items,
        refused,
        encryption,
    })
}

/// The stored credential that holds most of a query's claims.
struct Match {
    /// Its index in the list given to [`prepare`].
    index: usize,
    /// Its claims.
    root: Value,
    /// How many of the asked claims it holds (with an allowed value).
    held: usize,
}

/// The stored credential (issuance forms) of an accepted type that holds most of `claims`
/// (with an allowed value), the first on a tie.
fn best_match(
    query: &CredentialQuery,
    claims: &[&ClaimsQuery],
    credentials: &[String],
) -> Option<Match> {
    let mut best: Option<Match> = None;
    for (index, issued) in credentials.iter().enumerate() {
        let Ok(c) = card(issued) else { continue };
        if !query.accepts_vct(&c.vct) || !query.accepts_authorities(|| authority_key_ids(issued)) {
            continue;
        }
        let root = Value::Object(c.claims);
        let held = claims
            .iter()
            .filter(|q| {
                q.path
                    .lookup(&root)
                    .is_some_and(|v| q.values.as_ref().is_none_or(|vs| vs.contains(v)))
            })
            .count();
        if best.as_ref().is_none_or(|b| held > b.held) {
            best = Some(Match { index, root, held });
        }
    }
    best
}

/// The form to post to `prepared.response_uri` for the response parameters `params`
/// (`vp_token` as an object and `state`, or `error` and `state`): the parameters themselves
/// for `direct_post`, or only `response`, a JWE of them to the verifier's key, for
/// `direct_post.jwt`.
pub fn response_form(
    prepared: &PreparedRequest,
    params: &Map<String, Value>,
) -> Result<Vec<(String, String)>, WalletError> {
    let Some(encryption) = &prepared.encryption else {
        return Ok(params
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect());
    };
    let jwe = encryption
        .seal(params, &mut rand_core::OsRng)
        .map_err(|e| WalletError::new("encryption_failed", e.to_string()))?;
    Ok(vec![("response".to_owned(), jwe)])
}

/// The `vp_token` answering `prepared` with `issued` (a copy of the chosen credential) and its
/// holder key: exactly the requested claims, bound to the verifier's client id and nonce. The
/// pseudonym rule is checked again here, whatever `prepared` says.
pub fn vp_token(
    prepared: &PreparedRequest,
    issued: &str,
    holder: &Jwk,
    now: i64,
) -> Result<String, WalletError> {
    if let Some(why) = &prepared.refused {
        return Err(WalletError::new("pseudonym_refused", why.clone()));
    }
    pseudonym::check_request(
        &prepared.paths,
        &prepared.client_id,
        prepared.platform.as_deref(),
    )
    .map_err(|e| WalletError::new("pseudonym_refused", e.to_string()))?;
    let request = crate::presentation::PresentationRequest {
        paths: prepared.paths.clone(),
        client_id: prepared.client_id.clone(),
        nonce: prepared.nonce.clone(),
    };
    let presentation = crate::presentation::present(issued, &request, holder, now)?;
    Ok(serde_json::json!({ prepared.query_id.clone(): [presentation] }).to_string())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod x509_tests;
