-- 0001: terminals, entries as shipped, derived transactions, findings.

CREATE TABLE terminals (
    id               serial PRIMARY KEY,
    terminal         text NOT NULL UNIQUE,  -- TerminalUniquId
    merchant_id      text NOT NULL,
    store            text NOT NULL,         -- BranchCode
    terminal_code    text NOT NULL,
    max_seq          bigint NOT NULL DEFAULT 0,   -- highest Seq stored
    max_hash         bytea,                       -- stored hash of max_seq
    entries          bigint NOT NULL DEFAULT 0,   -- entries stored
    findings         bigint NOT NULL DEFAULT 0,
    last_shipped_at  timestamptz,                 -- ShippedAt of the newest entry
    last_received_at timestamptz                  -- when HQ committed it
);

-- One row per (terminal, Seq), the entry exactly as shipped: a redelivery
-- is a no-op, a different entry under the same Seq is a finding (fork).
CREATE TABLE entries (
    terminal_id integer NOT NULL REFERENCES terminals (id),
    seq         bigint NOT NULL,
    hash        bytea NOT NULL,       -- stored hash as shipped (32 bytes)
    body        bytea NOT NULL,       -- body bytes as stored on the terminal
    txn_id      text NOT NULL,        -- '' when the body did not decode
    shipped_at  timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (terminal_id, seq)
);

-- The newest snapshot of each transaction (snapshot_seq: Seq of its last
-- entry when shipped).
CREATE TABLE txns (
    terminal_id       integer NOT NULL REFERENCES terminals (id),
    txn_id            text NOT NULL,
    snapshot_seq      bigint NOT NULL,
    op                text NOT NULL,
    state             text NOT NULL,
    amount            bigint NOT NULL,
    order_id          text NOT NULL DEFAULT '',
    receipt_no        text NOT NULL DEFAULT '',
    pay_type          text NOT NULL DEFAULT '',
    trans_status      integer NOT NULL DEFAULT 0,
    target_request_id text NOT NULL DEFAULT '',
    user_code_masked  text NOT NULL DEFAULT '',
    error_code        text NOT NULL DEFAULT '',
    recovered         boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (terminal_id, txn_id)
);
CREATE INDEX txns_receipt ON txns (receipt_no) WHERE receipt_no <> '';
CREATE INDEX txns_order ON txns (order_id) WHERE order_id <> '';
CREATE INDEX txns_txn ON txns (txn_id);
CREATE INDEX txns_terminal_created ON txns (terminal_id, created_at);
CREATE INDEX txns_created ON txns (created_at);
CREATE INDEX txns_attention ON txns (created_at)
    WHERE state NOT IN ('paid', 'deposited', 'refunded', 'reversed', 'failed');

-- Every gap, fork, bad hash, undecodable record or late delivery, with the
-- terminal and Seq; never silently skipped. (terminal, seq, kind) is unique
-- so that a redelivered damage is recorded once.
CREATE TABLE findings (
    id       bigserial PRIMARY KEY,
    terminal text NOT NULL,
    seq      bigint NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('gap', 'fork', 'bad-hash', 'bad-body', 'bad-record', 'out-of-order')),
    detail   text NOT NULL,
    found_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (terminal, seq, kind)
);

-- Where the collector is in each stream: the stream sequence of the last
-- message committed, written in the same transaction as the entries, so the
-- consumer is positioned from the database after any crash.
CREATE TABLE cursors (
    stream     text PRIMARY KEY,
    stream_seq bigint NOT NULL
);

-- The views behind the hq verbs (docs/hq.md).
CREATE VIEW hq_find AS
SELECT t.merchant_id, t.store, t.terminal, t.terminal_code, x.txn_id, x.op, x.state, x.amount,
       x.order_id, x.receipt_no, x.pay_type, x.trans_status, x.target_request_id, x.user_code_masked,
       x.error_code, x.recovered, x.created_at, x.updated_at, x.snapshot_seq
FROM txns x JOIN terminals t ON t.id = x.terminal_id;

CREATE VIEW hq_attention AS
SELECT * FROM hq_find
WHERE state NOT IN ('paid', 'deposited', 'refunded', 'reversed', 'failed')
ORDER BY created_at, terminal, txn_id;

CREATE VIEW hq_totals AS
SELECT ((x.created_at AT TIME ZONE 'UTC') + interval '9 hours')::date AS day, -- JST
       t.store, t.terminal, x.pay_type AS channel, x.op, x.state,
       count(*) AS n, sum(x.amount) AS amount
FROM txns x JOIN terminals t ON t.id = x.terminal_id
GROUP BY 1, 2, 3, 4, 5, 6;

CREATE VIEW hq_lag AS
SELECT t.terminal, t.merchant_id, t.store, t.max_seq, t.entries,
       t.max_seq - t.entries AS missing, t.findings,
       CASE WHEN t.findings > 0 THEN 'damaged'
            WHEN t.entries < t.max_seq THEN 'gaps'
            ELSE 'ok' END AS chain,
       (SELECT min(f.seq) FROM findings f WHERE f.terminal = t.terminal) AS first_finding_seq,
       t.last_shipped_at, t.last_received_at
FROM terminals t;
