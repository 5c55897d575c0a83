-- The claim's scan for due webhook deliveries (its first part, as in
-- src/repository/deliveries.rs), over a backlog: 200 due deliveries of another tenant, and
-- one failing chain whose first delivery waits an hour for its retry with :count behind it,
-- due at :follower_time. Run by scripts/bench-due-query; it leaves the table empty.
-- The rows are written without their webhooks and events: foreign keys are not checked here.
set session_replication_role = replica;
-- other tenants' healthy traffic: 200 due deliveries on 200 invoices
insert into webhook_deliveries (organization_id, webhook_id, event_id, invoice_id, next_attempt_time, created_time)
select 'org_b', 'hook_b', 'ev_b' || n, 'in_b' || n, now() - interval '1 second', now() from generate_series(1, 200) n;
-- the failing chain: its first delivery waits for its retry in an hour, 3000 behind it
insert into webhook_deliveries (organization_id, webhook_id, event_id, invoice_id, next_attempt_time, created_time, attempts)
values ('org_a', 'hook_a', 'ev_a0', 'in_a', now() + interval '1 hour', now() - interval '10 minutes', 1);
insert into webhook_deliveries (organization_id, webhook_id, event_id, invoice_id, next_attempt_time, created_time)
select 'org_a', 'hook_a', 'ev_a' || n, 'in_a', :'follower_time'::timestamptz, now() - interval '10 minutes' from generate_series(1, :count) n;
analyze webhook_deliveries;
explain (analyze, buffers, costs off, timing on)
select d.organization_id, d.id, d.webhook_id, d.next_attempt_time
from webhook_deliveries d
where d.state = 'pending' and d.next_attempt_time <= now()
  and (d.lease_until is null or d.lease_until < now())
  and d.organization_id || '/' || d.webhook_id <> all('{}'::text[])
  and d.organization_id <> all('{}'::text[])
  and not exists (
      select 1 from webhook_deliveries e
      where e.organization_id = d.organization_id and e.webhook_id = d.webhook_id
        and e.invoice_id = d.invoice_id and e.state = 'pending' and e.id < d.id)
  and not exists (
      select 1 from webhook_deliveries e
      where e.organization_id = d.organization_id and e.webhook_id = d.webhook_id
        and e.item_id = d.item_id and e.state = 'pending' and e.id < d.id)
order by d.next_attempt_time, d.id
limit 256;
truncate webhook_deliveries;
