-- The first half of a sign-in ceremony, waiting for its second: a social sign-in's state (its
-- nonce and PKCE verifier, until the provider sends the browser back) or a passkey ceremony's
-- challenge. Found by the SHA-256 of its id (the id itself travels only with the browser), bound
-- to what must come back with it (the browser's flow cookie, the session, or the link token, each
-- hashed), taken exactly once, and useless after expires_at.
create table sign_in_challenges (
    id_hash blob primary key,
    kind text not null,
    scope text not null,
    address text not null,
    bound_to blob not null,
    provider text,
    ceremony text not null,
    keep_signed_in boolean not null default false,
    created_at integer not null,
    expires_at integer not null
);
create index sign_in_challenges_expiry on sign_in_challenges (expires_at);

-- Recipients' passkeys: each bound to one address within one tenant, under a random user handle
-- of that address in that tenant (nothing is shared across tenants). The credential is the public
-- key and its signature counter, as webauthn-rs keeps it.
create table recipient_passkeys (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    address text not null,
    user_handle blob not null,
    credential_id blob not null,
    credential text not null,
    name text not null,
    created_at integer not null,
    last_used_at integer,
    unique (tenant_id, credential_id)
);
create index recipient_passkeys_owner on recipient_passkeys (tenant_id, address);
