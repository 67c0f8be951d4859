-- A rights template's limits on forwarding (JSON: recipients_per_forward, recipients_per_day,
-- depth); '{}' takes the defaults.
alter table rights_templates add column forward_limits text not null default '{}';
