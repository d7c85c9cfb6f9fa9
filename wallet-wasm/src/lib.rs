//! civic-id wallet.
