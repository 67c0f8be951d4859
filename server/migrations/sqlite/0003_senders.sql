-- Senders sign in to the portal, with a passcode sent to their own address, to see what they sent
-- and remove external access. Their passcodes and sessions live in the same tables as recipients',
-- so the same single-use, attempt-counting and expiry rules hold across nodes. A row's `scope` is
-- the message id for a recipient, or `sender:<tenant id>` for a sender, which is why the column no
-- longer refers to `messages`; rows of a removed message are deleted with it by the store.

create table passcodes_scoped (
    id text primary key,
    scope text not null,
    address text not null,
    code_hash blob not null,
    created_at integer not null,
    expires_at integer not null,
    attempts integer not null default 0,
    used_at integer,
    burned_at integer
);
insert into passcodes_scoped
    select id, message_id, address, code_hash, created_at, expires_at, attempts, used_at, burned_at
    from passcodes;
drop table passcodes;
alter table passcodes_scoped rename to passcodes;
create index passcodes_by_recipient on passcodes (scope, address, created_at);
create index passcodes_by_expiry on passcodes (expires_at);

create table sessions_scoped (
    id_hash blob primary key,
    binding text not null unique,
    scope text not null,
    address text not null,
    created_at integer not null,
    last_seen_at integer not null,
    keep_signed_in integer not null
);
insert into sessions_scoped
    select id_hash, binding, message_id, address, created_at, last_seen_at, keep_signed_in
    from sessions;
drop table sessions;
alter table sessions_scoped rename to sessions;
create index sessions_by_scope on sessions (scope);
create index sessions_by_start on sessions (created_at);

-- The messages a sender sent, newest first.
create index messages_by_sender on messages (tenant_id, sender, created_at);
