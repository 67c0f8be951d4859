-- Data encryption policies (Customer Key): a tenant's policy names two root keys, and each version
-- of the policy's data key is stored wrapped under both, so either root key alone unwraps it.
-- A message sealed under a policy records it and the data-key version its key is wrapped under;
-- a key roll moves messages to the newest version by re-wrapping their keys (never their content)
-- and then deletes the old versions. A purge deletes every version and every wrapped message key.

create table data_encryption_policies (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null,
    name_key text not null,
    description text not null default '',
    root_key_1 text not null,
    root_key_2 text not null,
    current_version integer not null,
    created_at integer not null,
    created_by text not null,
    purge_requested_at integer,
    purge_requested_by text,
    purge_reason text,
    purge_contact text,
    purged_at integer,
    purged_by text,
    unique (tenant_id, name_key)
);

create table policy_data_keys (
    policy_id text not null references data_encryption_policies (id) on delete cascade,
    version integer not null,
    wrapped_1 blob not null,
    wrapped_2 blob not null,
    created_at integer not null,
    primary key (policy_id, version)
);

alter table tenants add column data_encryption_policy_id text
    references data_encryption_policies (id);

alter table messages add column policy_id text references data_encryption_policies (id);

create index messages_by_policy_version on messages (policy_id, key_version)
    where policy_id is not null;
