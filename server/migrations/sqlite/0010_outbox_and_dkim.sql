-- One durable outbox for every mail Sealpost writes itself (notices, passcodes, non-delivery
-- reports). A row is written in the same transaction as what causes it, sealed under the server's
-- mail key (it holds a link token or a passcode), leased to one worker while it is sent, and
-- deleted once the relay has taken it or it is given up on.
create table outbox (
    id text primary key,
    tenant_id text not null,
    purpose text not null,
    message_id text,
    recipient text not null,
    mail_from text not null,
    sealed blob not null,
    created_at integer not null,
    expires_at integer,
    next_attempt_at integer not null,
    attempts integer not null default 0,
    last_error text,
    lease_until integer,
    lease_holder text
);
create index outbox_due on outbox (next_attempt_at);
create index outbox_message on outbox (message_id);

-- Each recipient's notice: queued, sent, deferred (with the reason and the next try) or bounced
-- (with the reason); notice_at is when it last changed. Notices written before the outbox were
-- tried once: sent, or given up on.
alter table recipients add column notice_state text;
alter table recipients add column notice_next_at integer;
update recipients set notice_state = case
    when notice_at is not null and notice_error is null then 'sent' else 'bounced' end;
update recipients set
    notice_error = 'the server stopped before the notice was sent',
    notice_at = (select m.created_at from messages m where m.id = recipients.message_id)
where notice_at is null;

-- Each tenant's DKIM keys, per domain and selector. The private key is sealed under the server's
-- mail key (itself wrapped by the root key); the public key is what the DNS record publishes.
create table dkim_keys (
    tenant_id text not null references tenants (id) on delete cascade,
    domain text not null,
    selector text not null,
    algorithm text not null,
    sealed_private_key blob not null,
    public_key blob not null,
    created_at integer not null,
    primary key (domain, selector)
);
create index dkim_keys_tenant on dkim_keys (tenant_id);
