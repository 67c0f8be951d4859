-- Reply drafts: a signed-in recipient's reply whose attachments arrive in windows, as an API
-- draft's do (issue 30). `answering` is the message the reply answers, null for a draft begun
-- through the admin API; the sender is then the recipient's address. Recipients' drafts are
-- counted per address and together, apart from the tenant's own.
alter table drafts add column answering text;
create index drafts_by_sender on drafts (tenant_id, sender);
