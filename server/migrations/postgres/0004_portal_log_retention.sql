-- Portal log retention: a tenant may keep its log for a number of days. Entries older than that
-- are pruned as a prefix of the chain, and the last pruned entry's sequence number and hash are
-- kept as the tenant's checkpoint, from which the rest of the chain still verifies. Only entries
-- at or before the checkpoint may be deleted; the checkpoint only moves forward and is never
-- deleted; nothing is ever updated or truncated.
alter table tenants add column portal_log_retention_days bigint;

create table portal_log_checkpoints (
    tenant_id text primary key references tenants (id),
    seq bigint not null,
    hash bytea not null,
    at bigint not null
);
create function portal_log_checkpoint_forward() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'a portal log checkpoint is kept';
    end if;
    if new.seq < old.seq then
        raise exception 'a portal log checkpoint only moves forward';
    end if;
    return new;
end;
$$;
create trigger portal_log_checkpoint_forward before update or delete on portal_log_checkpoints
    for each row execute function portal_log_checkpoint_forward();

create or replace function portal_log_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        if exists (
            select 1 from portal_log_checkpoints c
            where c.tenant_id = old.tenant_id and c.seq >= old.seq
        ) then
            return old;
        end if;
    end if;
    raise exception 'the portal log is append-only';
end;
$$;
