-- Who holds a queued message's lease: a node's id (stable across its restarts). A worker's writes
-- count only while it still holds the lease, and a restarted node takes back its own leases at
-- once instead of waiting for them to expire.
alter table inbound_mail add column lease_holder text;
