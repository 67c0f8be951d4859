-- Customer Key, the rest of it.
--
-- The availability key: each policy's data key is also wrapped under a key of the operator's own,
-- one per policy (a key file or a key in a PKCS#11 token, named here; null: none was configured
-- when the policy was made, and one is added when it is). It is used only by an explicit, audited
-- recovery when neither customer root key answers, and destroyed when the policy is purged.
alter table data_encryption_policies add column availability_key text;
alter table policy_data_keys add column wrapped_availability blob;

-- Roll backs to service-managed keys under way: the tenant's (sender '') or one sender's. Each
-- moves, in the background, every message of its tenant (or sender) sealed under a policy until
-- `requested_at` under the tenant's own data key; the row goes when nothing is left.
create table key_roll_backs (
    tenant_id text not null references tenants (id) on delete cascade,
    sender text not null,
    requested_at integer not null,
    primary key (tenant_id, sender)
);

-- A sender's row with no policy is a sender rolled back to service-managed keys
-- (Set-Mailbox -DataEncryptionPolicy $null): its new messages are sealed under the tenant's own
-- data key whatever the tenant's policy, and its messages under a policy are re-wrapped there.
create table sender_policies_new (
    tenant_id text not null references tenants (id) on delete cascade,
    address text not null,
    policy_id text references data_encryption_policies (id),
    assigned_at integer not null,
    primary key (tenant_id, address)
);
insert into sender_policies_new (tenant_id, address, policy_id, assigned_at)
    select tenant_id, address, policy_id, assigned_at from sender_policies;
drop table sender_policies;
alter table sender_policies_new rename to sender_policies;
create index sender_policies_policy on sender_policies (policy_id);
