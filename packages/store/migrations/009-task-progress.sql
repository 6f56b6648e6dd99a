-- A running task's latest `ctx.progress` report ({ fraction, message, attempt, at }), kept with its run so
-- every health-api replica and a reload of the task's page show it. What a task logged goes to its timeline.
ALTER TABLE task_runs ADD COLUMN progress jsonb;
