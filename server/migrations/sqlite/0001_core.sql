-- Tenants, admin tokens, templates, messages and their recipients, the admin audit log and the
-- development mailbox. Append-only: change the schema with a new migration, never by editing this.

create table tenants (
    id text primary key,
    name text not null,
    show_subject_in_notice integer not null default 1,
    wrapped_data_key blob not null,
    key_version integer not null,
    created_at integer not null
);

-- A domain belongs to at most one tenant.
create table tenant_domains (
    domain text primary key,
    tenant_id text not null references tenants (id) on delete cascade
);
create index tenant_domains_by_tenant on tenant_domains (tenant_id);

create table admin_tokens (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    label text not null,
    token_hash blob not null unique,
    created_at integer not null,
    revoked_at integer
);
create index admin_tokens_by_tenant on admin_tokens (tenant_id);

create table branding_templates (
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null collate nocase,
    body text not null,
    updated_at integer not null,
    primary key (tenant_id, name)
);

create table rights_templates (
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null collate nocase,
    description text not null,
    rights text not null,
    updated_at integer not null,
    primary key (tenant_id, name)
);

create table messages (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    sender text not null,
    branding_template text not null,
    rights_template text not null,
    rights text not null,
    wrapped_key blob not null,
    key_version integer not null,
    size integer not null,
    created_at integer not null,
    expires_at integer,
    revoked_at integer,
    revoked_by text
);
create index messages_by_tenant on messages (tenant_id, created_at);

create table message_parts (
    message_id text not null references messages (id) on delete cascade,
    name text not null,
    size integer not null,
    primary key (message_id, name)
);

create table recipients (
    message_id text not null references messages (id) on delete cascade,
    address text not null,
    kind text not null,
    link_token_hash blob not null unique,
    notice_at integer,
    notice_error text,
    opened_at integer,
    revoked_at integer,
    revoked_by text,
    primary key (message_id, address)
);

create table audit_events (
    id integer primary key autoincrement,
    tenant_id text not null references tenants (id) on delete cascade,
    at integer not null,
    actor text not null,
    action text not null,
    target text not null
);
create index audit_events_by_tenant on audit_events (tenant_id, id);

create table dev_mailbox (
    id integer primary key autoincrement,
    at integer not null,
    envelope_from text not null,
    envelope_to text not null,
    subject text not null,
    raw blob not null
);
