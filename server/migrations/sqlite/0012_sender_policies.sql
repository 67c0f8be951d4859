-- Per-sender data encryption policies (Set-Mailbox -DataEncryptionPolicy): a sender's new messages
-- are sealed under its policy, which wins over the tenant's. A purge of the policy removes them.
create table sender_policies (
    tenant_id text not null references tenants (id) on delete cascade,
    address text not null,
    policy_id text not null references data_encryption_policies (id),
    assigned_at integer not null,
    primary key (tenant_id, address)
);
create index sender_policies_policy on sender_policies (policy_id);
