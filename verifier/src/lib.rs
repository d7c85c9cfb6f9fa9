//! civic-id verifier: filled by the verifier issue.
