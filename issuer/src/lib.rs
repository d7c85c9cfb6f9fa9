//! civic-id issuer: filled by the issuer issue.
