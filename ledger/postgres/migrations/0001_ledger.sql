-- The ledger's tables. Integers are bigint, blobs are bytea (compared bytewise, like
-- SQLite's BLOB), and module names use the "C" collation so they sort by their bytes.
CREATE TABLE blocks (
    height bigint PRIMARY KEY,
    hash bytea NOT NULL,
    header bytea NOT NULL,
    signature bytea NOT NULL,
    first_seq bigint NOT NULL,
    event_count bigint NOT NULL,
    state_digest bytea NOT NULL
);

CREATE TABLE events (
    seq bigint PRIMARY KEY,
    height bigint NOT NULL,
    id_key bigint NOT NULL,
    body bytea NOT NULL,
    signature bytea NOT NULL,
    result text
);
CREATE INDEX events_by_id ON events (id_key);

CREATE TABLE state (
    module text COLLATE "C" NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (module, key)
);

CREATE TABLE item_index (
    key bigint NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (key, seq)
);
