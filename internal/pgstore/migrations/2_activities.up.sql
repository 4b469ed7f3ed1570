-- The activity log, as the local SQLite one (internal/activitylog) keeps
-- it: times are unix nanoseconds, UTC; `who` is the OS user and `host` the
-- machine of every activity. Messages and changes are cleaned before they
-- are written and never hold a secret.
CREATE TABLE connctl_activities (
	id              bigserial PRIMARY KEY,
	type            text   NOT NULL CHECK (type IN ('execution', 'update')),
	action          text   NOT NULL,
	connection_id   text   NOT NULL,
	connection_name text   NOT NULL,
	job_id          text   NOT NULL,
	job_name        text   NOT NULL,
	status          text   NOT NULL CHECK (status IN ('running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled')),
	reason          text   NOT NULL,
	message         text   NOT NULL,
	who             text   NOT NULL,
	started_at      bigint NOT NULL,
	finished_at     bigint,
	records         bigint NOT NULL,
	bytes           bigint NOT NULL,
	pages           bigint NOT NULL,
	retries         bigint NOT NULL,
	without_cursor  bigint NOT NULL DEFAULT 0,
	changes         text,
	pid             integer NOT NULL,
	host            text   NOT NULL,
	proc_start      text   NOT NULL
);
CREATE INDEX connctl_activities_started    ON connctl_activities (started_at);
CREATE INDEX connctl_activities_connection ON connctl_activities (connection_id, started_at);
CREATE INDEX connctl_activities_job        ON connctl_activities (job_id, started_at);
CREATE INDEX connctl_activities_status     ON connctl_activities (status, started_at, connection_id);
CREATE INDEX connctl_activities_running    ON connctl_activities (job_id) WHERE status = 'running';

CREATE TABLE connctl_checkpoints (
	job_id     text PRIMARY KEY,
	value      text   NOT NULL,
	updated_at bigint NOT NULL
);

CREATE TABLE connctl_subject_states (
	subject     text    NOT NULL CHECK (subject IN ('connection', 'job')),
	id          text    NOT NULL,
	name        text    NOT NULL,
	state       text    NOT NULL,
	healthy     boolean NOT NULL,
	since       bigint  NOT NULL,
	notified_at bigint  NOT NULL,
	failures    integer NOT NULL,
	paused_at   bigint  NOT NULL,
	updated_at  bigint  NOT NULL,
	PRIMARY KEY (subject, id)
);
