-- The delivery log is pruned by age, over every organization: the oldest entries first, by
-- this index, a batch at a time.
create index webhook_attempts_age_idx on webhook_attempts (created_time);
