-- Portal log retention: a tenant may keep its log for a number of days. Entries older than that
-- are pruned as a prefix of the chain, and the last pruned entry's sequence number and hash are
-- kept as the tenant's checkpoint, from which the rest of the chain still verifies. Only entries
-- at or before the checkpoint may be deleted; the checkpoint only moves forward and is never
-- deleted; nothing is ever updated.
alter table tenants add column portal_log_retention_days integer;

create table portal_log_checkpoints (
    tenant_id text primary key references tenants (id),
    seq integer not null,
    hash blob not null,
    at integer not null
);
create trigger portal_log_checkpoint_forward before update on portal_log_checkpoints
when new.seq < old.seq
begin
    select raise(abort, 'a portal log checkpoint only moves forward');
end;
create trigger portal_log_checkpoint_kept before delete on portal_log_checkpoints
begin
    select raise(abort, 'a portal log checkpoint is kept');
end;

drop trigger portal_log_no_delete;
create trigger portal_log_no_delete before delete on portal_log
when not exists (
    select 1 from portal_log_checkpoints c where c.tenant_id = old.tenant_id and c.seq >= old.seq
)
begin
    select raise(abort, 'the portal log is append-only');
end;
