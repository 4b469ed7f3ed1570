-- The definitions' generation: a random token that every statement writing
-- connctl_connections or connctl_jobs replaces, through the triggers below
-- (so SQL written by hand counts too, and an older connctl's writes). A
-- reader that finds the token it cached the definitions under needs read
-- nothing else (pgstore's local cache). A token, not a counter: a database
-- restored from a dump holds the token of the rows it restored, and can
-- never reach, by later writes, a number some cache holds for other rows.
CREATE TABLE connctl_definitions_state (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	generation text NOT NULL
);
INSERT INTO connctl_definitions_state (one, generation)
	VALUES (true, md5(random()::text || clock_timestamp()::text || txid_current()::text));

CREATE FUNCTION connctl_next_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE connctl_definitions_state
		SET generation = md5(random()::text || clock_timestamp()::text || txid_current()::text);
	RETURN NULL;
END
$$;

CREATE TRIGGER connctl_connections_generation
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON connctl_connections
	FOR EACH STATEMENT EXECUTE PROCEDURE connctl_next_generation();
CREATE TRIGGER connctl_jobs_generation
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON connctl_jobs
	FOR EACH STATEMENT EXECUTE PROCEDURE connctl_next_generation();
