-- The CA database of schema 1 (lyncpki c81c1b5 to 86c5505, before the accounts of 7af8ce9), as
-- that code's metadata.create_all emitted it on postgresql: generated from the old file itself, not
-- written by hand:
--   git show c81c1b5:src/lyncpki/ca/database.py > old_database.py
--   then, with that module imported as old (importlib) and SQLAlchemy 2:
--   engine = sqlalchemy.create_mock_engine("postgresql+psycopg://", dump)
--   old.metadata.create_all(engine, checkfirst=False)
--   where dump(sql) prints str(sql.compile(dialect=engine.dialect)) + ";".
-- (trailing blanks removed.) No append-only triggers on audit: they came with 964c89c, after c81c1b5.

CREATE TABLE certificates (
	serial VARCHAR(48) NOT NULL,
	ca VARCHAR(64) NOT NULL,
	subject TEXT NOT NULL,
	sans TEXT NOT NULL,
	template VARCHAR(64) NOT NULL,
	requester VARCHAR(128) NOT NULL,
	request_id INTEGER,
	not_before TIMESTAMP WITH TIME ZONE NOT NULL,
	not_after TIMESTAMP WITH TIME ZONE NOT NULL,
	thumbprint VARCHAR(40) NOT NULL,
	key VARCHAR(16) NOT NULL,
	issued_at TIMESTAMP WITH TIME ZONE NOT NULL,
	status VARCHAR(16) NOT NULL,
	der BYTEA NOT NULL,
	PRIMARY KEY (serial)
);

CREATE INDEX ix_certificates_not_after ON certificates (not_after);

CREATE INDEX ix_certificates_ca_status ON certificates (ca, status);

CREATE TABLE requests (
	id SERIAL NOT NULL,
	ca VARCHAR(64) NOT NULL,
	csr BYTEA NOT NULL,
	template VARCHAR(64) NOT NULL,
	requester VARCHAR(128) NOT NULL,
	subject TEXT NOT NULL,
	sans TEXT NOT NULL,
	key VARCHAR(32) NOT NULL,
	status VARCHAR(16) NOT NULL,
	submitted_at TIMESTAMP WITH TIME ZONE NOT NULL,
	decided_at TIMESTAMP WITH TIME ZONE,
	decided_by VARCHAR(128),
	serial VARCHAR(48),
	reason TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_requests_status ON requests (ca, status);

CREATE TABLE crls (
	id SERIAL NOT NULL,
	ca VARCHAR(64) NOT NULL,
	number INTEGER NOT NULL,
	delta BOOLEAN NOT NULL,
	base_number INTEGER,
	this_update TIMESTAMP WITH TIME ZONE NOT NULL,
	next_update TIMESTAMP WITH TIME ZONE NOT NULL,
	entries INTEGER NOT NULL,
	last_revocation_id INTEGER NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_crl_number UNIQUE (ca, number)
);

CREATE TABLE audit (
	id SERIAL NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor VARCHAR(128) NOT NULL,
	action VARCHAR(32) NOT NULL,
	target VARCHAR(128) NOT NULL,
	outcome VARCHAR(16) NOT NULL,
	detail TEXT NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_audit_at ON audit (at);

CREATE TABLE revocations (
	id SERIAL NOT NULL,
	serial VARCHAR(48) NOT NULL,
	ca VARCHAR(64) NOT NULL,
	reason VARCHAR(32) NOT NULL,
	revoked_at TIMESTAMP WITH TIME ZONE NOT NULL,
	revoked_by VARCHAR(128) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (serial),
	FOREIGN KEY(serial) REFERENCES certificates (serial)
);

CREATE INDEX ix_revocations_ca ON revocations (ca, id);
