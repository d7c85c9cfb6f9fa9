//! The issuer's PostgreSQL schema, as versioned steps (component `issuer`). A step, once
//! released, never changes: a change to the schema is a new step.
//!
//! Records the issuer only reads back whole (residents, passkeys, credentials, audit events)
//! are JSONB, in the same JSON the sled store keeps, so an operator can read them with `psql`
//! and `civic-issuer migrate` copies them as they are. What the database must enforce is in
//! columns: one owner per passkey, one credential per status list index, one audit entry per
//! sequence number.

use civic_storage::postgres::Migration;

/// Every step, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "issuer store",
    sql: "
CREATE TABLE issuer_residents (
    register_id TEXT PRIMARY KEY,
    resident    JSONB NOT NULL);
CREATE TABLE issuer_enrollment_codes (
    code_id TEXT PRIMARY KEY,
    code    JSONB NOT NULL);
CREATE TABLE issuer_passkeys (
    credential_id TEXT PRIMARY KEY,
    register_id   TEXT NOT NULL,
    passkey       JSONB NOT NULL);
CREATE INDEX issuer_passkeys_resident ON issuer_passkeys (register_id);
CREATE TABLE issuer_ephemeral (
    kind    TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    expires BIGINT NOT NULL,
    value   BYTEA  NOT NULL,
    PRIMARY KEY (kind, key));
CREATE INDEX issuer_ephemeral_expires ON issuer_ephemeral (expires);
CREATE TABLE issuer_blocks (
    register_id TEXT PRIMARY KEY,
    status      SMALLINT NOT NULL);
CREATE TABLE issuer_status_lists (
    list      BIGINT PRIMARY KEY,
    bits      SMALLINT NOT NULL,
    size      BIGINT NOT NULL,
    allocated BIGINT NOT NULL,
    version   BIGINT NOT NULL,
    bytes     BYTEA);
CREATE TABLE issuer_credentials (
    list        BIGINT NOT NULL,
    idx         BIGINT NOT NULL,
    register_id TEXT   NOT NULL,
    record      JSONB  NOT NULL,
    PRIMARY KEY (list, idx));
CREATE INDEX issuer_credentials_resident ON issuer_credentials (register_id);
CREATE TABLE issuer_platforms (
    id       TEXT PRIMARY KEY,
    platform JSONB NOT NULL);
CREATE TABLE issuer_admin_tokens (
    hash_hex TEXT PRIMARY KEY,
    token    JSONB NOT NULL);
CREATE TABLE issuer_audit (
    seq   BIGINT PRIMARY KEY,
    event JSONB NOT NULL);
CREATE TABLE issuer_meta (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL);
",
}];
