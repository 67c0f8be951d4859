-- The whole schema for PostgreSQL, equal to SQLite's migrations 0001 to 0006 (see
-- ../sqlite): the same tables, columns and indexes, so the same queries run on both. Append-only:
-- change the schema with a new migration here and its twin in ../sqlite, never by editing this.
--
-- What differs from SQLite, and why:
-- * Integers are bigint (Rust's i64), flags boolean, bytes bytea.
-- * `rowid` is an identity column on the tables whose queries break ties by insertion order, as
--   SQLite's implicit rowid does there.
-- * Template names compare without regard to case through a nondeterministic ICU collation
--   (SQLite's `collate nocase` folds only ASCII; this folds every letter).
-- * The portal log refuses update, delete and truncate by trigger.

create collation if not exists nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

create table tenants (
    id text primary key,
    name text not null,
    show_subject_in_notice boolean not null default true,
    wrapped_data_key bytea not null,
    key_version bigint not null,
    created_at bigint not null,
    portal_tracking_logs boolean not null default false
);

create table tenant_domains (
    domain text primary key,
    tenant_id text not null references tenants (id) on delete cascade
);
create index tenant_domains_by_tenant on tenant_domains (tenant_id);

create table admin_tokens (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    label text not null,
    token_hash bytea not null unique,
    created_at bigint not null,
    revoked_at bigint
);
create index admin_tokens_by_tenant on admin_tokens (tenant_id);

create table branding_templates (
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null collate nocase,
    body text not null,
    updated_at bigint not null,
    primary key (tenant_id, name)
);

create table rights_templates (
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null collate nocase,
    description text not null,
    rights text not null,
    updated_at bigint not null,
    primary key (tenant_id, name)
);

create table data_encryption_policies (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null,
    name_key text not null,
    description text not null default '',
    root_key_1 text not null,
    root_key_2 text not null,
    current_version bigint not null,
    created_at bigint not null,
    created_by text not null,
    purge_requested_at bigint,
    purge_requested_by text,
    purge_reason text,
    purge_contact text,
    purged_at bigint,
    purged_by text,
    unique (tenant_id, name_key)
);

create table policy_data_keys (
    policy_id text not null references data_encryption_policies (id) on delete cascade,
    version bigint not null,
    wrapped_1 bytea not null,
    wrapped_2 bytea not null,
    created_at bigint not null,
    primary key (policy_id, version)
);

alter table tenants add column data_encryption_policy_id text
    references data_encryption_policies (id);

create table messages (
    id text primary key,
    rowid bigint generated always as identity,
    tenant_id text not null references tenants (id) on delete cascade,
    sender text not null,
    branding_template text not null,
    rights_template text not null,
    rights text not null,
    wrapped_key bytea not null,
    key_version bigint not null,
    size bigint not null,
    created_at bigint not null,
    expires_at bigint,
    revoked_at bigint,
    revoked_by text,
    parent_id text references messages (id),
    relation text,
    policy_id text references data_encryption_policies (id)
);
create index messages_by_tenant on messages (tenant_id, created_at);
create index messages_by_parent on messages (parent_id);
create index messages_by_sender on messages (tenant_id, sender, created_at);
create index messages_by_policy_version on messages (policy_id, key_version)
    where policy_id is not null;

create table message_parts (
    message_id text not null references messages (id) on delete cascade,
    name text not null,
    size bigint not null,
    primary key (message_id, name)
);

create table recipients (
    message_id text not null references messages (id) on delete cascade,
    address text not null,
    rowid bigint generated always as identity,
    kind text not null,
    link_token_hash bytea not null unique,
    notice_at bigint,
    notice_error text,
    opened_at bigint,
    revoked_at bigint,
    revoked_by text,
    primary key (message_id, address)
);

create table audit_events (
    id bigint generated always as identity primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    at bigint not null,
    actor text not null,
    action text not null,
    target text not null
);
create index audit_events_by_tenant on audit_events (tenant_id, id);

create table dev_mailbox (
    id bigint generated always as identity primary key,
    at bigint not null,
    envelope_from text not null,
    envelope_to text not null,
    subject text not null,
    raw bytea not null
);

create table server_keys (
    name text primary key,
    wrapped bytea not null,
    created_at bigint not null
);

-- `scope` is the message id for a recipient, or `sender:<tenant id>` for a sender.
create table passcodes (
    id text primary key,
    rowid bigint generated always as identity,
    scope text not null,
    address text not null,
    code_hash bytea not null,
    created_at bigint not null,
    expires_at bigint not null,
    attempts bigint not null default 0,
    used_at bigint,
    burned_at bigint
);
create index passcodes_by_recipient on passcodes (scope, address, created_at);
create index passcodes_by_expiry on passcodes (expires_at);

create table rate_events (
    rate_key bytea not null,
    at bigint not null
);
create index rate_events_by_key on rate_events (rate_key, at);
create index rate_events_by_time on rate_events (at);

create table sessions (
    id_hash bytea primary key,
    binding text not null unique,
    scope text not null,
    address text not null,
    created_at bigint not null,
    last_seen_at bigint not null,
    keep_signed_in boolean not null
);
create index sessions_by_scope on sessions (scope);
create index sessions_by_start on sessions (created_at);

create table portal_log (
    tenant_id text not null references tenants (id),
    seq bigint not null,
    at bigint not null,
    message_id text not null,
    recipient text not null,
    event text not null,
    detail text not null,
    client_addr text not null,
    user_agent text not null,
    prev_hash bytea not null,
    hash bytea not null,
    primary key (tenant_id, seq)
);
create index portal_log_by_message on portal_log (tenant_id, message_id);
create index portal_log_by_recipient on portal_log (tenant_id, recipient);

create function portal_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the portal log is append-only';
end;
$$;
create trigger portal_log_no_change before update or delete on portal_log
    for each row execute function portal_log_append_only();
create trigger portal_log_no_truncate before truncate on portal_log
    for each statement execute function portal_log_append_only();

create table mail_flow_rules (
    tenant_id text not null references tenants (id) on delete cascade,
    name_key text not null,
    position bigint not null,
    body text not null,
    updated_at bigint not null,
    primary key (tenant_id, name_key)
);

create table inbound_connectors (
    tenant_id text primary key references tenants (id) on delete cascade,
    remote_addresses text not null default '[]',
    auth_username text unique,
    auth_password_hash bytea,
    updated_at bigint not null
);

create table inbound_mail (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    received_at bigint not null,
    client text not null,
    mail_from text not null,
    recipients text not null,
    raw bytea,
    plan text not null,
    state text not null default 'queued',
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    lease_until bigint,
    last_error text,
    lease_holder text
);
create index inbound_mail_due on inbound_mail (state, next_attempt_at);
