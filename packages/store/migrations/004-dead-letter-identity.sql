-- One dead letter per failed task. A task message's dead letter is known by the task's id and the attempt that
-- died, not by when it died: a duplicate (a redelivery after a lost connection, an attempt re-run and failed
-- again, the broker dead-lettering one message twice) finds the first row instead of adding a pending one.
-- A replay is a new task message (a new id, attempt 1), so if it dies too, that is a new row.
-- Rows stored before this migration keep only their old key (task_attempt stays null).
ALTER TABLE dead_letters ADD COLUMN task_attempt integer;
CREATE UNIQUE INDEX dead_letters_task_attempt_key ON dead_letters (message_id, task_attempt) WHERE task_attempt IS NOT NULL;
