-- Connection and job definitions: one row each, the definition as JSON
-- (never a secret: configstore.Connection names its secrets, it holds none;
-- json, not jsonb: kept byte for byte, so a writer tells unchanged rows),
-- a version bumped by every write, and who changed it last, where and when.
CREATE TABLE connctl_connections (
	id           text PRIMARY KEY,
	name_key     text NOT NULL UNIQUE,
	position     bigserial NOT NULL,
	body         json NOT NULL,
	version      bigint NOT NULL DEFAULT 1,
	updated_by   text NOT NULL,
	updated_host text NOT NULL,
	updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE connctl_jobs (
	id            text PRIMARY KEY,
	name_key      text NOT NULL UNIQUE,
	connection_id text NOT NULL REFERENCES connctl_connections (id),
	position      bigserial NOT NULL,
	body          json NOT NULL,
	version       bigint NOT NULL DEFAULT 1,
	updated_by    text NOT NULL,
	updated_host  text NOT NULL,
	updated_at    timestamptz NOT NULL DEFAULT now()
);
