package hq

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wbpay/wbpay/journal"
)

// DB is what the queries need of a pool, a connection or a transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Txn is one transaction as HQ holds it (the view hq_find).
type Txn struct {
	MerchantID     string    `json:"merchantId"`
	Store          string    `json:"store"`
	Terminal       string    `json:"terminal"`
	TerminalCode   string    `json:"terminalCode"`
	TxnID          string    `json:"id"`
	Op             string    `json:"op"`
	State          string    `json:"state"`
	Amount         int64     `json:"amount"`
	OrderID        string    `json:"orderId,omitempty"`
	ReceiptNo      string    `json:"receiptNo,omitempty"`
	PayType        string    `json:"payType,omitempty"`
	TransStatus    int32     `json:"transStatus,omitempty"`
	TargetRequest  string    `json:"targetRequestId,omitempty"`
	UserCodeMasked string    `json:"userCodeMasked,omitempty"`
	ErrorCode      string    `json:"errorCode,omitempty"`
	Recovered      bool      `json:"recovered,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	SnapshotSeq    int64     `json:"snapshotSeq"`
}

const txnColumns = `merchant_id, store, terminal, terminal_code, txn_id, op, state, amount, order_id, receipt_no, pay_type,
	trans_status, target_request_id, user_code_masked, error_code, recovered, created_at, updated_at, snapshot_seq`

func scanTxns(rows pgx.Rows) ([]Txn, error) {
	defer rows.Close()
	var out []Txn
	for rows.Next() {
		var t Txn
		if err := rows.Scan(&t.MerchantID, &t.Store, &t.Terminal, &t.TerminalCode, &t.TxnID, &t.Op, &t.State, &t.Amount, &t.OrderID,
			&t.ReceiptNo, &t.PayType, &t.TransStatus, &t.TargetRequest, &t.UserCodeMasked, &t.ErrorCode, &t.Recovered,
			&t.CreatedAt, &t.UpdatedAt, &t.SnapshotSeq); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindQuery selects transactions chain-wide; empty fields match all, Since
// is inclusive and Until exclusive (on CreatedAt), Limit 0 means 1000.
type FindQuery struct {
	ReceiptNo, OrderID, TxnID, Store, Terminal string
	Since, Until                               time.Time
	Limit                                      int
}

// Find returns the transactions matching q, oldest first. Each field is
// served by an index (receipt, order, id, terminal and time).
func Find(ctx context.Context, db DB, q FindQuery) ([]Txn, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.ReceiptNo != "" {
		add("receipt_no = $%d", q.ReceiptNo)
	}
	if q.OrderID != "" {
		add("order_id = $%d", q.OrderID)
	}
	if q.TxnID != "" {
		add("txn_id = $%d", q.TxnID)
	}
	if q.Store != "" {
		add("store = $%d", q.Store)
	}
	if q.Terminal != "" {
		add("terminal = $%d", q.Terminal)
	}
	if !q.Since.IsZero() {
		add("created_at >= $%d", q.Since)
	}
	if !q.Until.IsZero() {
		add("created_at < $%d", q.Until)
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	sql := "SELECT " + txnColumns + " FROM hq_find"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += fmt.Sprintf(" ORDER BY created_at, terminal, txn_id LIMIT %d", q.Limit)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("hq find: %w", err)
	}
	return scanTxns(rows)
}

// Attention returns the transactions that need a person (escalated) or are
// not finished, oldest first (the view hq_attention); limit 0 means 1000.
func Attention(ctx context.Context, db DB, limit int) ([]Txn, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.Query(ctx, "SELECT "+txnColumns+" FROM hq_attention LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("hq attention: %w", err)
	}
	return scanTxns(rows)
}

// Total is the count and amount of transactions of one day (JST), store or
// terminal, channel (payType), operation and state.
type Total struct {
	Day      string `json:"day"` // YYYY-MM-DD, JST
	Store    string `json:"store"`
	Terminal string `json:"terminal,omitempty"` // "" when totalled per store
	Channel  string `json:"channel"`
	Op       string `json:"op"`
	State    string `json:"state"`
	N        int64  `json:"count"`
	Amount   int64  `json:"amount"`
}

// TotalsQuery selects totals: By "store" (default) or "terminal", days from
// Since (inclusive) to Until (exclusive), YYYY-MM-DD, JST; Store narrows.
type TotalsQuery struct {
	By           string
	Since, Until string
	Store        string
}

// Totals returns the totals (the view hq_totals) per day, store or
// terminal, channel, operation and state.
func Totals(ctx context.Context, db DB, q TotalsQuery) ([]Total, error) {
	term := "''"
	switch q.By {
	case "", "store":
	case "terminal":
		term = "terminal"
	default:
		return nil, fmt.Errorf("hq totals: by %q: want store or terminal", q.By)
	}
	var where []string
	var args []any
	if q.Since != "" {
		args = append(args, q.Since)
		where = append(where, fmt.Sprintf("day >= $%d::date", len(args)))
	}
	if q.Until != "" {
		args = append(args, q.Until)
		where = append(where, fmt.Sprintf("day < $%d::date", len(args)))
	}
	if q.Store != "" {
		args = append(args, q.Store)
		where = append(where, fmt.Sprintf("store = $%d", len(args)))
	}
	sql := "SELECT to_char(day, 'YYYY-MM-DD'), store, " + term + ", channel, op, state, sum(n)::bigint, sum(amount)::bigint FROM hq_totals"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("hq totals: %w", err)
	}
	defer rows.Close()
	var out []Total
	for rows.Next() {
		var t Total
		if err := rows.Scan(&t.Day, &t.Store, &t.Terminal, &t.Channel, &t.Op, &t.State, &t.N, &t.Amount); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Lag is one terminal's shipping state (the view hq_lag); StreamSeq is the
// last Seq the stream holds for it (filled by the caller from NATS; 0 when
// not asked).
type Lag struct {
	Terminal        string     `json:"terminal"`
	MerchantID      string     `json:"merchantId"`
	Store           string     `json:"store"`
	MaxSeq          int64      `json:"lastSeqAtHQ"`
	Entries         int64      `json:"entries"`
	Missing         int64      `json:"missing"`
	Findings        int64      `json:"findings"`
	Chain           string     `json:"chain"` // ok, gaps, damaged
	FirstFindingSeq *int64     `json:"firstFindingSeq,omitempty"`
	LastShippedAt   *time.Time `json:"lastShippedAt,omitempty"`
	LastReceivedAt  *time.Time `json:"lastReceivedAt,omitempty"`
	StreamSeq       uint64     `json:"lastSeqInStream,omitempty"`
}

// Lags returns every terminal's lag, by terminal.
func Lags(ctx context.Context, db DB) ([]Lag, error) {
	rows, err := db.Query(ctx, `SELECT terminal, merchant_id, store, max_seq, entries, missing, findings, chain, first_finding_seq,
		last_shipped_at, last_received_at FROM hq_lag ORDER BY terminal`)
	if err != nil {
		return nil, fmt.Errorf("hq lag: %w", err)
	}
	defer rows.Close()
	var out []Lag
	for rows.Next() {
		var l Lag
		if err := rows.Scan(&l.Terminal, &l.MerchantID, &l.Store, &l.MaxSeq, &l.Entries, &l.Missing, &l.Findings, &l.Chain,
			&l.FirstFindingSeq, &l.LastShippedAt, &l.LastReceivedAt); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Finding is one recorded damage.
type Finding struct {
	Terminal string    `json:"terminal"`
	Seq      int64     `json:"seq"`
	Kind     string    `json:"kind"`
	Detail   string    `json:"detail"`
	FoundAt  time.Time `json:"foundAt"`
}

// Findings returns the findings of terminal ("" for all), by terminal and
// Seq.
func Findings(ctx context.Context, db DB, terminal string) ([]Finding, error) {
	rows, err := db.Query(ctx, `SELECT terminal, seq, kind, detail, found_at FROM findings
		WHERE $1 = '' OR terminal = $1 ORDER BY terminal, seq, kind`, terminal)
	if err != nil {
		return nil, fmt.Errorf("hq findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		if err := rows.Scan(&f.Terminal, &f.Seq, &f.Kind, &f.Detail, &f.FoundAt); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ChainCheck is what VerifyChain found for one terminal.
type ChainCheck struct {
	Terminal string `json:"terminal"`
	Entries  int64  `json:"entries"`
	LastSeq  int64  `json:"lastSeq"`
	OK       bool   `json:"ok"`
	BadSeq   int64  `json:"badSeq,omitempty"` // first entry that is missing or does not recompute
	Reason   string `json:"reason,omitempty"`
}

// VerifyChain recomputes terminal's whole chain as HQ holds it, with the
// journal's own EntryHash: Seqs from 1 without a gap, each entry's hash
// over its predecessor's and its body.
func VerifyChain(ctx context.Context, db DB, terminal string) (ChainCheck, error) {
	c := ChainCheck{Terminal: terminal, OK: true}
	rows, err := db.Query(ctx, `SELECT e.seq, e.hash, e.body FROM entries e JOIN terminals t ON t.id = e.terminal_id
		WHERE t.terminal = $1 ORDER BY e.seq`, terminal)
	if err != nil {
		return c, fmt.Errorf("hq verify %s: %w", terminal, err)
	}
	defer rows.Close()
	prev := ""
	for rows.Next() {
		var seq int64
		var hash, body []byte
		if err := rows.Scan(&seq, &hash, &body); err != nil {
			return c, err
		}
		c.Entries++
		if c.OK {
			switch h := hex.EncodeToString(hash); {
			case seq != c.LastSeq+1:
				c.OK, c.BadSeq, c.Reason = false, c.LastSeq+1, fmt.Sprintf("entries %d to %d missing", c.LastSeq+1, seq-1)
			case journal.EntryHash(prev, uint64(seq), body) != h:
				c.OK, c.BadSeq, c.Reason = false, seq, "hash does not recompute over the previous hash and the body"
			}
			prev = hex.EncodeToString(hash)
		}
		c.LastSeq = seq
	}
	return c, rows.Err()
}
