-- Recipient sign-in and key release: passcodes, their rate limit, sessions, server-wide keys, the
-- portal tracking log, and replies and forwards linked to the message they answer.

alter table tenants add column portal_tracking_logs integer not null default 0;

-- A reply, reply-all or forward points at the message it came from. Revoking a message revokes
-- every forward below it (not replies: those are the recipient's own words to the sender).
alter table messages add column parent_id text references messages (id);
alter table messages add column relation text;
create index messages_by_parent on messages (parent_id);

-- Keys the server uses for itself, wrapped by the root key (e.g. the passcode MAC key).
create table server_keys (
    name text primary key,
    wrapped blob not null,
    created_at integer not null
);

-- One row per emailed passcode; only a keyed hash of the code is stored.
create table passcodes (
    id text primary key,
    message_id text not null references messages (id) on delete cascade,
    address text not null,
    code_hash blob not null,
    created_at integer not null,
    expires_at integer not null,
    attempts integer not null default 0,
    used_at integer,
    burned_at integer
);
create index passcodes_by_recipient on passcodes (message_id, address, created_at);
create index passcodes_by_expiry on passcodes (expires_at);

-- Rate-limited events (passcode requests, valid link or not; replies and forwards), keyed by a
-- hash: hourly limits are counted here so they hold across nodes.
create table rate_events (
    rate_key blob not null,
    at integer not null
);
create index rate_events_by_key on rate_events (rate_key, at);
create index rate_events_by_time on rate_events (at);

-- Recipient sessions. The cookie holds the id; the database holds only its SHA-256.
create table sessions (
    id_hash blob primary key,
    binding text not null unique,
    message_id text not null references messages (id) on delete cascade,
    address text not null,
    created_at integer not null,
    last_seen_at integer not null,
    keep_signed_in integer not null
);
create index sessions_by_message on sessions (message_id);
create index sessions_by_start on sessions (created_at);

-- The portal tracking log: append-only, each entry chained to the one before it in its tenant.
create table portal_log (
    tenant_id text not null references tenants (id),
    seq integer not null,
    at integer not null,
    message_id text not null,
    recipient text not null,
    event text not null,
    detail text not null,
    client_addr text not null,
    user_agent text not null,
    prev_hash blob not null,
    hash blob not null,
    primary key (tenant_id, seq)
);
create index portal_log_by_message on portal_log (tenant_id, message_id);
create index portal_log_by_recipient on portal_log (tenant_id, recipient);

create trigger portal_log_no_update before update on portal_log
begin
    select raise(abort, 'the portal log is append-only');
end;
create trigger portal_log_no_delete before delete on portal_log
begin
    select raise(abort, 'the portal log is append-only');
end;
