-- Drafts: a message being put together through the API, whose attachments arrive in windows over
-- several requests and are sealed as they come (issue 30). A draft reserves the message's id and
-- key (wrapped as a message's is); its attachments are sealed straight into the blob store under
-- that id, so sending it writes only the manifest and bodies. Drafts expire and are swept.
create table drafts (
    tenant_id text not null references tenants (id) on delete cascade,
    id text not null,
    sender text not null,
    wrapped_key bytea not null,
    policy_id text,
    key_version bigint not null,
    created_at bigint not null,
    expires_at bigint not null,
    -- Bytes per window, fixed when the draft begins (nodes may be configured differently).
    window_size bigint not null,
    -- While one request sends it: nothing may be added, written or removed meanwhile.
    sending_until bigint,
    primary key (tenant_id, id)
);
create index drafts_by_expiry on drafts (expires_at);

-- One attachment of a draft. `prefix` is the sealed part's first bytes (version and Cobblestone
-- header: salt and commitment, nothing secret), kept so each window goes on sealing the same part.
-- `received` counts plaintext bytes sealed and stored, always whole windows until the last.
-- `pending_window`/`pending_digest`: the window being written and the SHA-256 of its plaintext,
-- kept until it is stored, so a window is never sealed again with other bytes under the same
-- nonces. `writing_until`: the lease of the one request writing it. S3: the multipart upload and
-- the parts stored so far (space-separated ETags).
create table draft_attachments (
    tenant_id text not null,
    draft_id text not null,
    idx bigint not null,
    name text not null,
    content_type text not null,
    content_id text,
    size bigint not null,
    prefix bytea not null,
    received bigint not null default 0,
    pending_window bigint,
    pending_digest bytea,
    writing_until bigint,
    upload_id text,
    etags text not null default '',
    primary key (tenant_id, draft_id, idx),
    foreign key (tenant_id, draft_id) references drafts (tenant_id, id) on delete cascade
);
