-- Domains a tenant admin has asked for but not yet proven with a DNS TXT record. Several tenants
-- may claim one domain; it joins tenant_domains (where it is unique) only when proven.
create table domain_claims (
    tenant_id text not null references tenants (id) on delete cascade,
    domain text not null,
    token text not null,
    created_at bigint not null,
    primary key (tenant_id, domain)
);
