-- Customer Key, the rest of it.
--
-- The availability key: each policy's data key is also wrapped under a key of the operator's own,
-- one per policy (a key file or a key in a PKCS#11 token, named here; null: none was configured
-- when the policy was made, and one is added when it is). It is used only by an explicit, audited
-- recovery when neither customer root key answers, and destroyed when the policy is purged.
alter table data_encryption_policies add column availability_key text;
alter table policy_data_keys add column wrapped_availability bytea;

-- Roll back to service-managed keys. A tenant's roll back re-wraps, in the background, every
-- message it sealed under a policy up to this moment under its own data key; cleared when done.
alter table tenants add column roll_back_requested_at bigint;

-- A sender's row with no policy is a sender rolled back to service-managed keys
-- (Set-Mailbox -DataEncryptionPolicy $null): its new messages are sealed under the tenant's own
-- data key whatever the tenant's policy, and its messages under a policy are re-wrapped there.
alter table sender_policies alter column policy_id drop not null;
