-- Mail flow: the tenant's rules, its inbound connector (which mail servers may relay through the
-- SMTP listener), and the queue of accepted messages. A message is in `inbound_mail` before the
-- listener answers 250, so a crash after that loses nothing; the row goes once it is delivered.

create table mail_flow_rules (
    tenant_id text not null references tenants (id) on delete cascade,
    name_key text not null,
    position integer not null,
    body text not null,
    updated_at integer not null,
    primary key (tenant_id, name_key)
);

create table inbound_connectors (
    tenant_id text primary key references tenants (id) on delete cascade,
    remote_addresses text not null default '[]',
    auth_username text unique,
    auth_password_hash blob,
    updated_at integer not null
);

create table inbound_mail (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    received_at integer not null,
    client text not null,
    mail_from text not null,
    recipients text not null,
    raw blob,
    plan text not null,
    state text not null default 'queued',
    attempts integer not null default 0,
    next_attempt_at integer not null,
    lease_until integer,
    last_error text
);
create index inbound_mail_due on inbound_mail (state, next_attempt_at);
