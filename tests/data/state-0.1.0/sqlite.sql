-- The state store's schema as Digest 0.1.0 created it (SQLAlchemy create_all on sqlite, no version table).
CREATE TABLE deliveries (
	edition VARCHAR(200) NOT NULL,
	issue_id VARCHAR(200) NOT NULL,
	address VARCHAR(320) NOT NULL,
	status VARCHAR(16) NOT NULL,
	detail TEXT NOT NULL,
	at VARCHAR(32) NOT NULL,
	PRIMARY KEY (edition, issue_id, address)
);

CREATE TABLE entries_seen (
	entry_id VARCHAR(64) NOT NULL,
	first_seen VARCHAR(32) NOT NULL,
	PRIMARY KEY (entry_id)
);

CREATE TABLE http_validators (
	url VARCHAR(2048) NOT NULL,
	etag TEXT,
	last_modified TEXT,
	updated_at VARCHAR(32) NOT NULL,
	PRIMARY KEY (url)
);

CREATE TABLE issues (
	edition VARCHAR(200) NOT NULL,
	issue_id VARCHAR(200) NOT NULL,
	built_at VARCHAR(32) NOT NULL,
	resume_from VARCHAR(32) NOT NULL,
	path TEXT NOT NULL,
	stories INTEGER NOT NULL,
	PRIMARY KEY (edition, issue_id)
);

CREATE TABLE kept_entries (
	edition VARCHAR(200) NOT NULL,
	entry_id VARCHAR(64) NOT NULL,
	published VARCHAR(32) NOT NULL,
	kept_at VARCHAR(32) NOT NULL,
	entry TEXT NOT NULL,
	PRIMARY KEY (edition, entry_id)
);

CREATE TABLE runs (
	id INTEGER NOT NULL,
	edition VARCHAR(200) NOT NULL,
	started_at VARCHAR(32) NOT NULL,
	finished_at VARCHAR(32) NOT NULL,
	outcome VARCHAR(16) NOT NULL,
	issue_id VARCHAR(200),
	stories INTEGER,
	reason TEXT NOT NULL,
	recipients INTEGER,
	send_error TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_runs_edition ON runs (edition);

CREATE TABLE secrets (
	name VARCHAR(200) NOT NULL,
	value TEXT NOT NULL,
	created_at VARCHAR(32) NOT NULL,
	PRIMARY KEY (name)
);

CREATE TABLE send_leases (
	edition VARCHAR(200) NOT NULL,
	holder VARCHAR(400) NOT NULL,
	since VARCHAR(32) NOT NULL,
	renewed_at VARCHAR(32) NOT NULL,
	PRIMARY KEY (edition)
);

CREATE TABLE source_health (
	edition VARCHAR(200) NOT NULL,
	url VARCHAR(2048) NOT NULL,
	name TEXT NOT NULL,
	failures_in_a_row INTEGER NOT NULL,
	last_error TEXT,
	last_failed_at VARCHAR(32),
	last_ok_at VARCHAR(32),
	PRIMARY KEY (edition, url)
);

CREATE TABLE suppressions (
	edition VARCHAR(200) NOT NULL,
	address VARCHAR(320) NOT NULL,
	how VARCHAR(32) NOT NULL,
	at VARCHAR(32) NOT NULL,
	PRIMARY KEY (edition, address)
);

CREATE TABLE used_entries (
	edition VARCHAR(200) NOT NULL,
	entry_id VARCHAR(64) NOT NULL,
	issue_id VARCHAR(200) NOT NULL,
	PRIMARY KEY (edition, entry_id)
);
