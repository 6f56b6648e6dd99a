-- A count of the statements that changed runtime entries or their states, committed: what beat reads at a fire time
-- to know, in one small statement, that nothing changed since it read its due entries' rows a moment before (and so
-- that what it read then still stands). Any statement that writes either table counts, in the writer's own
-- transaction: committed with it, rolled back with it, never lost as a notification can be. Counts only go up, so
-- their sum is the same at two moments only if nothing was committed between them.
-- One row per slot, each connection counting in its own (its backend's pid modulo 128): changes made at once on
-- different connections do not wait for each other's commit on one row.
CREATE TABLE schedule_change_marks (
  slot integer PRIMARY KEY,
  changes bigint NOT NULL
);

CREATE FUNCTION mark_schedule_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO %I.schedule_change_marks AS m (slot, changes) VALUES ($1, 1)
    ON CONFLICT (slot) DO UPDATE SET changes = m.changes + 1', TG_TABLE_SCHEMA) USING pg_backend_pid() % 128;
  RETURN NULL;
END
$$;

CREATE TRIGGER schedules_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schedules
  FOR EACH STATEMENT EXECUTE FUNCTION mark_schedule_change();
CREATE TRIGGER schedule_states_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schedule_states
  FOR EACH STATEMENT EXECUTE FUNCTION mark_schedule_change();
-- Counted in every session, a replicating one too (`session_replication_role = replica`, in which ordinary triggers,
-- the notifying ones among them, do not fire): a change beat is not told of is still one the mark shows.
ALTER TABLE schedules ENABLE ALWAYS TRIGGER schedules_mark;
ALTER TABLE schedule_states ENABLE ALWAYS TRIGGER schedule_states_mark;
