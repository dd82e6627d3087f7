package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Limits of GET /v1/transactions.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// timeParam parses an RFC 3339 query parameter (zero when absent).
func timeParam(r *http.Request, name string) (time.Time, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badField(name, name+" must be an RFC 3339 time, e.g. 2026-12-01T10:15:00+09:00")
	}
	return t, nil
}

// serveList is GET /v1/transactions.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r, "receiptNo", "orderId", "idempotencyKey", "since", "until", "state", "operation", "limit"); e != nil {
		s.fail(w, r, e)
		return
	}
	q := r.URL.Query()
	var query journal.Query
	var e *apiError
	if query.Since, e = timeParam(r, "since"); e != nil {
		s.fail(w, r, e)
		return
	}
	if query.Until, e = timeParam(r, "until"); e != nil {
		s.fail(w, r, e)
		return
	}
	query.OrderID, query.ReceiptNo = q.Get("orderId"), q.Get("receiptNo")
	if v := q.Get("state"); v != "" {
		if query.State, e = stateParam(v); e != nil {
			s.fail(w, r, e)
			return
		}
	}
	if v := q.Get("operation"); v != "" {
		op, ok := paytree.ParseOperation(v)
		if !ok || op == paytree.OpConfirm || op.String() != v {
			s.fail(w, r, badField("operation", "operation must be pay, refund, reverse or deposit"))
			return
		}
		query.Op = op
	}
	query.Limit = DefaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			s.fail(w, r, badField("limit", fmt.Sprintf("limit must be 1 to %d", MaxListLimit)))
			return
		}
		query.Limit = n
	}
	key := q.Get("idempotencyKey")
	if key != "" && !wbpay.ValidIdempotencyKey(key) {
		s.fail(w, r, badField("idempotencyKey", "idempotencyKey must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"))
		return
	}
	query.IdempotencyKey = key
	txns, err := s.eng.Audit().List(query)
	if err != nil {
		s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "read the journal: "+err.Error()))
		return
	}
	out := struct {
		Transactions []Transaction `json:"transactions"`
	}{Transactions: make([]Transaction, 0, len(txns))}
	for _, t := range txns {
		out.Transactions = append(out.Transactions, txnOf(s.eng, t))
	}
	writeJSONAnswer(w, http.StatusOK, out)
}

// Entry is one journal entry of /entries.
type Entry struct {
	Seq        uint64       `json:"seq"`
	Time       string       `json:"time"`
	Event      string       `json:"event"`
	From       string       `json:"from"`
	To         string       `json:"to"`
	RequestID  *string      `json:"requestId"`
	Kind       *string      `json:"kind"`
	HTTP       *string      `json:"http"`
	ResultCode *string      `json:"resultCode"`
	Error      *ErrorObject `json:"error"`
	Note       *string      `json:"note"`
	PrevHash   string       `json:"prevHash"`
	Hash       string       `json:"hash"`
}

func toEntry(e journal.Entry) Entry {
	return Entry{Seq: e.Seq, Time: rfc3339(e.Time), Event: string(e.Event), From: string(e.From), To: string(e.To),
		RequestID: strPtr(e.RequestID), Kind: strPtr(e.Kind), HTTP: strPtr(e.HTTP), ResultCode: strPtr(e.ResultCode),
		Error: errorFromInfo(e.Error), Note: strPtr(e.Note), PrevHash: e.PrevHash, Hash: e.Hash}
}

// serveEntries is GET /v1/transactions/{id}/entries.
func (s *Server) serveEntries(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r); e != nil {
		s.fail(w, r, e)
		return
	}
	id := r.PathValue("id")
	entries, err := s.eng.Audit().Entries(id)
	if err != nil {
		s.failRead(w, r, id, err)
		return
	}
	out := struct {
		TransactionID string  `json:"transactionId"`
		Entries       []Entry `json:"entries"`
	}{TransactionID: id, Entries: make([]Entry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, toEntry(e))
	}
	writeJSONAnswer(w, http.StatusOK, out)
}

// VerifyReport is /v1/verify (the CLI's verify -o json).
type VerifyReport struct {
	OK           bool    `json:"ok"`
	Entries      uint64  `json:"entries"`
	Transactions uint64  `json:"transactions"`
	LastSeq      uint64  `json:"lastSeq"`
	LastHash     string  `json:"lastHash"`
	Error        *string `json:"error"`
	BadSeq       *uint64 `json:"badSeq"`
	BadTxn       *string `json:"badTransactionId"`
}

// serveVerify is GET /v1/verify: 200 with ok false when the journal is
// damaged (the report is the answer).
func (s *Server) serveVerify(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r); e != nil {
		s.fail(w, r, e)
		return
	}
	rep, err := s.eng.Audit().Verify()
	if err != nil && !errors.Is(err, journal.ErrCorrupt) {
		s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "verify: "+err.Error()))
		return
	}
	v := VerifyReport{OK: err == nil, Entries: rep.Entries, Transactions: rep.Txns, LastSeq: rep.LastSeq, LastHash: rep.LastHash}
	if err != nil {
		v.Error = strPtr(err.Error())
		var ce *journal.CorruptError
		if errors.As(err, &ce) {
			seq := ce.Seq
			v.BadSeq, v.BadTxn = &seq, strPtr(ce.TxnID)
		}
	}
	writeJSONAnswer(w, http.StatusOK, v)
}

// CSVHeader names the columns of /v1/export?format=csv (the CLI's export).
var CSVHeader = []string{"seq", "time", "txnId", "event", "from", "to", "requestId", "kind", "http", "resultCode",
	"errorType", "errorCode", "errorSubCode", "errorMessage", "action", "note", "prevHash", "hash"}

// CSVRow is one entry as a CSV row.
func CSVRow(e journal.Entry) []string {
	var et, ec, es, em, ea string
	if x := e.Error; x != nil {
		et, ec, es, em, ea = strconv.Itoa(x.Type), x.Code, x.SubCode, x.Message, x.Action
	}
	return []string{strconv.FormatUint(e.Seq, 10), rfc3339(e.Time), e.TxnID, string(e.Event), string(e.From), string(e.To),
		e.RequestID, e.Kind, e.HTTP, e.ResultCode, et, ec, es, em, ea, e.Note, e.PrevHash, e.Hash}
}

// serveExport is GET /v1/export?format=jsonl|csv&since=&until=, streamed.
// A journal error after the first byte aborts the connection, so a client
// never takes a truncated export for a whole one.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r, "format", "since", "until"); e != nil {
		s.fail(w, r, e)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" {
		s.fail(w, r, badField("format", "format must be jsonl or csv"))
		return
	}
	since, e := timeParam(r, "since")
	if e != nil {
		s.fail(w, r, e)
		return
	}
	until, e := timeParam(r, "until")
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(bw)
		_ = cw.Write(CSVHeader)
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := s.eng.Audit().ForEachEntry(func(en journal.Entry) error {
		if (!since.IsZero() && en.Time.Before(since)) || (!until.IsZero() && !en.Time.Before(until)) {
			return nil
		}
		if cw != nil {
			return cw.Write(CSVRow(en))
		}
		return enc.Encode(en)
	})
	if cw != nil && err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.log.Error("api: export stopped", zap.Error(err))
		panic(http.ErrAbortHandler)
	}
}
