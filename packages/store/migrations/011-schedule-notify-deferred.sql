-- A writer may announce its changes of entries and states itself, after its commit, instead of in it: it sets
-- `nightshift.schedule_notify` to `deferred` in its transaction, and the trigger then leaves the announcement to it.
-- Why: PostgreSQL serializes the commits of transactions that notify (a lock on the notification queue, held
-- through the commit's WAL flush), so changes that each notify in their own commit wait their turn for one flush
-- each. Announced after the commit, in batches, on a commit that need not wait for the flush (a notification
-- is not durable anyway), the changes' commits flush together. Every other writer (SQL by hand, older clients)
-- is announced by the trigger as before.
CREATE OR REPLACE FUNCTION notify_schedule_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  channel text := 'nightshift_schedules.' || TG_TABLE_SCHEMA;
BEGIN
  IF current_setting('nightshift.schedule_notify', true) = 'deferred' THEN
    RETURN NULL;
  END IF;
  IF octet_length(channel) > 63 THEN
    channel := 'nightshift_schedules.' || md5(TG_TABLE_SCHEMA);
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify(channel, OLD.name);
  ELSE
    PERFORM pg_notify(channel, NEW.name);
  END IF;
  RETURN NULL;
END
$$;
