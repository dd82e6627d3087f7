package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/api/client"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

// daemon returns a client of the daemon serving the home, or nil when none
// does (serve.json missing, or its daemon does not answer): the verbs then
// open the home themselves.
func (g *globals) daemon(ctx context.Context) *client.Client {
	c, info, err := client.Discover(ctx, g.home)
	if err != nil {
		return nil
	}
	fmt.Fprintf(g.stderr, "a daemon serves this home (%s, pid %d): going through its API\n", info.URL, info.PID)
	return c
}

// daemonRequest is a request verb's request in the API's terms.
type daemonRequest struct {
	op   string // pay, refund, reverse, deposit, pay-confirm
	body map[string]any
	key  string // Idempotency-Key
}

// eventLine is one --events jsonl line.
type eventLine struct {
	ID    uint64          `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// follower prints the events of one request as they happen: progress
// lines on stderr (what the transaction waits for) and, with --events
// jsonl, each event as a JSON line on stdout.
type follower struct {
	g    *globals
	mu   sync.Mutex
	last string // last progress line, not repeated
}

func (f *follower) event(id uint64, kind string, data json.RawMessage, txnState, transStatus string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.g.events == "jsonl" {
		js, _ := json.Marshal(eventLine{ID: id, Event: kind, Data: data})
		fmt.Fprintf(f.g.stdout, "%s\n", js)
	}
	line := ""
	switch {
	case kind == "complete" && transStatus == "WAITING":
		line = "waiting for the customer's passcode (the customer approves on their phone)"
	case kind == "state":
		switch fsm.State(txnState) {
		case fsm.StateSending:
			line = "sent; waiting for the gateway's answer"
		case fsm.StateUnknown:
			line = "the answer did not arrive; confirming with the gateway"
		case fsm.StateConfirming:
			line = "confirming with the gateway"
		case fsm.StateResending:
			line = "resending with the same request id"
		case fsm.StateReversing:
			line = "reversing: undoing the charge so that nothing stays charged"
		}
	}
	if line != "" && line != f.last {
		f.last = line
		fmt.Fprintln(f.g.stderr, line)
	}
}

// runViaDaemon sends req through the daemon, follows its events to the
// end and reports like runRequest.
func (g *globals) runViaDaemon(ctx context.Context, c *client.Client, req daemonRequest) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &follower{g: g}
	type evOrErr struct {
		ev  client.Event
		err error
	}
	evs := make(chan evOrErr, 256)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // follow the stream, reconnecting after the last id seen
		defer wg.Done()
		var after *uint64
		for {
			err := c.Events(sctx, after, func() {
				select {
				case <-ready:
				default:
					close(ready)
				}
			}, func(ev client.Event) error {
				id := ev.ID
				after = &id
				select {
				case evs <- evOrErr{ev: ev}:
				case <-sctx.Done():
					return sctx.Err()
				}
				return nil
			})
			if sctx.Err() != nil {
				return
			}
			if !errors.Is(err, io.EOF) {
				select {
				case evs <- evOrErr{err: err}:
				case <-sctx.Done():
				}
				return
			}
			select {
			case <-sctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	select {
	case <-ready:
	case e := <-evs:
		return withExit(ExitLibrary, fmt.Errorf("follow the daemon's events: %w", e.err))
	case <-time.After(10 * time.Second):
		return withExit(ExitLibrary, errors.New("the daemon's event stream did not open"))
	}
	txn, status, err := c.Submit(ctx, req.op, req.body, req.key, 0)
	if err != nil {
		return g.daemonRefused(err)
	}
	if status == 200 && fsm.State(txn.State).Terminal() {
		fmt.Fprintln(g.stderr, "the Idempotency-Key started this transaction before: its outcome is")
		return g.report(resultOf(txn, nil))
	}
	var events []wbpay.Event
	polling := g.needsPolling()
	var pollStop chan struct{}
	if req.op == "pay-confirm" && polling && fsm.State(txn.State) == fsm.StateWaiting {
		pollStop = make(chan struct{})
		go g.pollConfirm(ctx, c, pollStop)
	}
	defer func() {
		if pollStop != nil {
			close(pollStop)
		}
	}()
	for {
		var e evOrErr
		select {
		case e = <-evs:
		case <-ctx.Done():
			return withExit(ExitEscalate, fmt.Errorf("interrupted: the daemon goes on with transaction %s; see `wbpay-engine show %s`", txn.ID, txn.ID))
		}
		if e.err != nil {
			return withExit(ExitLibrary, fmt.Errorf("follow the daemon's events: %w", e.err))
		}
		ev := e.ev
		if ev.TransactionID != txn.ID {
			continue
		}
		st, ts := "", ""
		if ev.Transaction != nil {
			st, ts = ev.Transaction.State, client.S(ev.Transaction.TransStatus)
		}
		f.event(ev.ID, ev.Kind, ev.Data, st, ts)
		switch ev.Kind {
		case "complete":
			events = append(events, wbpay.Event{Complete: completionOf(ev)})
			if ts == "WAITING" && polling && pollStop == nil {
				pollStop = make(chan struct{})
				go g.pollConfirm(ctx, c, pollStop)
			}
		case "error":
			events = append(events, wbpay.Event{Failure: failureOf(ev)})
		}
		if ev.Final && ev.Transaction != nil {
			return g.report(resultOf(*ev.Transaction, events))
		}
	}
}

// needsPolling reports whether the home's engine waits for PayConfirm
// (PayConfirmPollingMode no): the CLI then asks the gateway through the
// daemon at the configured pace, as it does without one.
func (g *globals) needsPolling() bool {
	cfg, err := config.Load(layout.Home(g.home).Conf())
	return err == nil && !cfg.PayConfirmPollingMode
}

func (g *globals) pollConfirm(ctx context.Context, c *client.Client, stop chan struct{}) {
	cfg, err := config.Load(layout.Home(g.home).Conf())
	if err != nil {
		return
	}
	next := cfg.PayConfirmPollingWait
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
		next = cfg.PayConfirmPollingInterval
		_, _, _ = c.Submit(ctx, "pay-confirm", map[string]any{"confirm": true}, "", 0)
	}
}

// daemonRefused reports a request the daemon refused (nothing was sent).
func (g *globals) daemonRefused(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		code := ExitLibrary
		if ce.Code == paytree.L0003 {
			code = ExitUsage
		}
		return withExit(code, errorOf(&ce.ErrorObject))
	}
	return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
}

// errorOf is the engine's error that the API's error object e stands for.
func errorOf(e *client.ErrorObject) *wbpay.Error {
	if e == nil {
		return nil
	}
	we := &wbpay.Error{Type: paytree.ErrorType(e.Type), Code: e.Code, SubCode: e.SubCode, Message: e.Message}
	we.Action, _ = paytree.ParseAction(e.Action)
	return we
}

func opOf(s string) paytree.Operation {
	op, _ := paytree.ParseOperation(s)
	return op
}

func completionOf(ev client.Event) *wbpay.Completion {
	t := ev.Transaction
	c := &wbpay.Completion{Request: opOf(lower(ev.RequestType)), TransactionID: ev.TransactionID, Recovered: ev.Recovered}
	if t != nil {
		c.OrderID, c.Amount = client.S(t.OrderID), t.Amount
		c.TransStatus, _ = statusByName(client.S(t.TransStatus))
		c.PayType, _ = paytree.ChannelFromCode(client.S(t.PayType))
		if t.RefundAmount != nil {
			c.Amount = *t.RefundAmount
		}
		if t.RefundedTotal != nil {
			c.RefundedTotal = *t.RefundedTotal
		}
	}
	return c
}

func failureOf(ev client.Event) *wbpay.Failure {
	return &wbpay.Failure{Request: opOf(lower(ev.RequestType)), TransactionID: ev.TransactionID, Err: errorOf(ev.Error), Recovered: ev.Recovered}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// resultOf is a transaction object as a Result.
func resultOf(t client.Transaction, events []wbpay.Event) *wbpay.Result {
	r := &wbpay.Result{TransactionID: t.ID, Operation: opOf(t.Operation), State: fsm.State(t.State), OrderID: client.S(t.OrderID),
		Amount: t.Amount, Events: events, Recovered: t.Recovered}
	r.TransStatus, _ = statusByName(client.S(t.TransStatus))
	r.PayType, _ = paytree.ChannelFromCode(client.S(t.PayType))
	if len(events) == 0 && t.Error != nil {
		r.Events = []wbpay.Event{{Failure: &wbpay.Failure{Request: r.Operation, TransactionID: t.ID, Err: errorOf(t.Error)}}}
	}
	return r
}

// txnOf is a transaction object as a journal snapshot, for the audit
// verbs' printing.
func txnOf(t client.Transaction) *journal.Txn {
	j := &journal.Txn{ID: t.ID, Op: opOf(t.Operation), State: fsm.State(t.State), Amount: t.Amount, PayType: client.S(t.PayType),
		UserCodeMasked: client.S(t.UserCodeMasked), ReceiptNo: client.S(t.ReceiptNo), OrderID: client.S(t.OrderID),
		Recovered: t.Recovered, IdempotencyKey: client.S(t.IdempotencyKey)}
	j.CreatedAt, _ = time.Parse(time.RFC3339Nano, t.CreatedAt)
	j.UpdatedAt, _ = time.Parse(time.RFC3339Nano, t.UpdatedAt)
	if ts, ok := statusByName(client.S(t.TransStatus)); ok {
		j.TransStatus = int(ts)
	}
	if e := t.Error; e != nil {
		j.LastError = &journal.ErrorInfo{Type: e.Type, Code: e.Code, SubCode: e.SubCode, Message: e.Message, Action: e.Action}
	}
	return j
}

func entryOf(e client.Entry, txnID string) journal.Entry {
	j := journal.Entry{Seq: e.Seq, TxnID: txnID, Event: fsm.Event(e.Event), From: fsm.State(e.From), To: fsm.State(e.To),
		RequestID: client.S(e.RequestID), Kind: client.S(e.Kind), HTTP: client.S(e.HTTP), ResultCode: client.S(e.ResultCode),
		Note: client.S(e.Note), PrevHash: e.PrevHash, Hash: e.Hash}
	j.Time, _ = time.Parse(time.RFC3339Nano, e.Time)
	if x := e.Error; x != nil {
		j.Error = &journal.ErrorInfo{Type: x.Type, Code: x.Code, SubCode: x.SubCode, Message: x.Message, Action: x.Action}
	}
	return j
}

// historyVia lists through the daemon (pages of 1000, newest first).
func (g *globals) historyVia(ctx context.Context, c *client.Client, q journal.Query) error {
	var out []*journal.Txn
	until := q.Until
	for {
		v := url.Values{}
		set := func(k, val string) {
			if val != "" {
				v.Set(k, val)
			}
		}
		set("receiptNo", q.ReceiptNo)
		set("orderId", q.OrderID)
		set("idempotencyKey", q.IdempotencyKey)
		set("state", string(q.State))
		if q.Op != 0 {
			set("operation", q.Op.String())
		}
		if !q.Since.IsZero() {
			set("since", q.Since.Format(time.RFC3339Nano))
		}
		if !until.IsZero() {
			set("until", until.Format(time.RFC3339Nano))
		}
		page := api.MaxListLimit
		if q.Limit > 0 {
			page = min(page, q.Limit-len(out))
		}
		v.Set("limit", strconv.Itoa(page))
		txns, err := c.Transactions(ctx, v)
		if err != nil {
			return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
		}
		for _, t := range txns {
			out = append(out, txnOf(t))
		}
		if len(txns) < page || (q.Limit > 0 && len(out) >= q.Limit) {
			break
		}
		until = out[len(out)-1].CreatedAt
	}
	st := map[string]journal.Standing{}
	for _, t := range out {
		if (t.Op != paytree.OpPay && t.Op != paytree.OpDeposit) || t.OrderID == "" {
			continue
		}
		order, err := c.Transactions(ctx, url.Values{"orderId": {t.OrderID}, "limit": {"1000"}})
		if err != nil {
			return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
		}
		txns := make([]*journal.Txn, len(order))
		for i, o := range order {
			txns[i] = txnOf(o)
		}
		st[t.ID] = journal.StandingOf(t, txns)
	}
	if q.State == fsm.StatePaid || q.State == fsm.StateDeposited {
		held := out[:0]
		for _, t := range out {
			if st[t.ID].Held {
				held = append(held, t)
			}
		}
		out = held
	}
	return g.printHistory(out, st)
}

// showVia prints a transaction (or an order's) through the daemon.
func (g *globals) showVia(ctx context.Context, c *client.Client, id string) error {
	var txns []client.Transaction
	t, err := c.Transaction(ctx, id)
	var ce *client.Error
	switch {
	case err == nil:
		txns = []client.Transaction{t}
	case errors.As(err, &ce) && ce.Status == 404:
		if txns, err = c.Transactions(ctx, url.Values{"orderId": {id}, "limit": {"1000"}}); err != nil {
			return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
		}
		if len(txns) == 0 {
			return withExit(ExitLibrary, fmt.Errorf("no transaction or order %q in the journal (see `wbpay-engine history`)", id))
		}
		// oldest first, as show does
		for i, j := 0, len(txns)-1; i < j; i, j = i+1, j-1 {
			txns[i], txns[j] = txns[j], txns[i]
		}
	default:
		return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
	}
	timelines := make([]timeline, 0, len(txns))
	for _, t := range txns {
		ents, err := c.Entries(ctx, t.ID)
		if err != nil {
			return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
		}
		entries := make([]journal.Entry, len(ents))
		for k, e := range ents {
			entries[k] = entryOf(e, t.ID)
		}
		timelines = append(timelines, timeline{txnOf(t), entries})
	}
	return g.printTimelines(timelines)
}

// tryDaemon sends req through the home's daemon when one serves it; ok is
// false when none does (the verb then opens the home itself).
func (g *globals) tryDaemon(ctx context.Context, req wbpay.Request) (err error, ok bool) {
	c := g.daemon(ctx)
	if c == nil {
		return nil, false
	}
	return g.runViaDaemon(ctx, c, toDaemonRequest(req)), true
}

func toDaemonRequest(req wbpay.Request) daemonRequest {
	body := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			body[k] = v
		}
	}
	switch r := req.(type) {
	case *wbpay.PayRequest:
		body["payType"] = "AUTO"
		set("payType", r.PayType.Code())
		body["amount"], body["userCode"] = r.Amount, r.UserCode
		set("receiptNo", r.ReceiptNo)
		set("remark", r.Remark)
		return daemonRequest{op: "pay", body: body, key: r.IdempotencyKey}
	case *wbpay.DepositRequest:
		body["payType"], body["amount"], body["userCode"] = r.PayType.Code(), r.Amount, r.UserCode
		body["valueType"] = string(paytree.ValueBasic)
		set("valueType", string(r.ValueType))
		set("receiptNo", r.ReceiptNo)
		return daemonRequest{op: "deposit", body: body, key: r.IdempotencyKey}
	case *wbpay.RefundRequest:
		body["orderId"], body["refundAmount"] = r.OrderID, r.RefundAmount
		set("refundReason", r.RefundReason)
		set("remark", r.Remark)
		return daemonRequest{op: "refund", body: body, key: r.IdempotencyKey}
	case *wbpay.ReverseRequest:
		body["orderId"] = r.OrderID
		return daemonRequest{op: "reverse", body: body, key: r.IdempotencyKey}
	}
	return daemonRequest{}
}

// streamFollower prints, for a request run in this process, what the
// daemon's event stream would carry: progress lines on stderr when stderr
// is no terminal (a terminal has its own display) and --events jsonl.
type streamFollower struct {
	quit chan struct{}
	done chan struct{}
}

func (g *globals) startStreamFollower(eng *wbpay.Engine) *streamFollower {
	sf := &streamFollower{quit: make(chan struct{}), done: make(chan struct{})}
	tty := g.isTTY(g.stderr)
	if g.events != "jsonl" && tty {
		close(sf.done)
		return sf
	}
	f := &follower{g: g}
	if tty {
		f.last = "-" // only the jsonl lines: the terminal shows progress
	}
	var pos uint64
	if seq, err := eng.Audit().LastSeq(); err == nil && seq > 0 {
		pos = wbpay.StreamID(seq, 0) - 1
	}
	_ = eng.StreamAfter(pos, func(ev wbpay.StreamEvent) error { pos = ev.ID; return nil })
	emit := func() {
		cache := map[string]*journal.Txn{}
		_ = eng.StreamAfter(pos, func(ev wbpay.StreamEvent) error {
			pos = ev.ID
			t, ok := cache[ev.Entry.TxnID]
			if !ok {
				t, _ = eng.Audit().Get(ev.Entry.TxnID)
				cache[ev.Entry.TxnID] = t
			}
			data := api.EventData(eng, ev, t)
			var d client.Event
			_ = json.Unmarshal(data, &d)
			st, ts := "", ""
			if d.Transaction != nil {
				st, ts = d.Transaction.State, client.S(d.Transaction.TransStatus)
			}
			if tty {
				if g.events == "jsonl" {
					js, _ := json.Marshal(eventLine{ID: ev.ID, Event: string(ev.Kind), Data: data})
					fmt.Fprintf(g.stdout, "%s\n", js)
				}
				return nil
			}
			f.event(ev.ID, string(ev.Kind), data, st, ts)
			return nil
		})
	}
	go func() {
		defer close(sf.done)
		for {
			ch := eng.StreamChanged()
			emit()
			select {
			case <-ch:
			case <-sf.quit:
				emit() // what the last step journaled
				return
			}
		}
	}()
	return sf
}

func (sf *streamFollower) stop() {
	select {
	case <-sf.quit:
	default:
		close(sf.quit)
	}
	<-sf.done
}

// verifyVia asks the daemon to verify the journal and prints like verify.
func (g *globals) verifyVia(ctx context.Context, c *client.Client) error {
	rep, err := c.Verify(ctx)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
	}
	v := verifyJSON{OK: rep.OK, Journal: layout.Home(g.home).Journal(), Entries: rep.Entries, Transactions: rep.Transactions,
		LastSeq: rep.LastSeq, LastHash: rep.LastHash, Error: client.S(rep.Error), BadTxn: client.S(rep.BadTxn)}
	if rep.BadSeq != nil {
		v.BadSeq = *rep.BadSeq
	}
	if g.json() {
		if err := jsonOrExit(g, v); err != nil {
			return err
		}
	} else if v.OK {
		fmt.Fprintf(g.stdout, "journal OK: %d entries, %d transactions, hash chain intact up to entry %d (%s)\n",
			v.Entries, v.Transactions, v.LastSeq, abbrevHash(v.LastHash))
	} else {
		fmt.Fprintf(g.stdout, "journal DAMAGED: %s\n", v.Error)
	}
	if !v.OK {
		return silentExit(ExitLibrary)
	}
	return nil
}

// exportVia streams the daemon's export into fill's writer.
func exportVia(ctx context.Context, c *client.Client, format string, since, until timeFlag) func(io.Writer) error {
	v := url.Values{"format": {format}}
	if !since.t.IsZero() {
		v.Set("since", since.t.Format(time.RFC3339Nano))
	}
	if !until.t.IsZero() {
		v.Set("until", until.t.Format(time.RFC3339Nano))
	}
	return func(w io.Writer) error { return c.Export(ctx, v, w) }
}

// recoverVia says that the daemon has the home (and recovers itself).
func (g *globals) recoverVia(ctx context.Context, c *client.Client) error {
	h, err := c.Health(ctx)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
	}
	fmt.Fprintf(g.stdout, "The daemon serving this home (%s) has it: it recovered at its start and finishes every transaction itself (state %s, %d unfinished).\n", c.URL, h.State, h.Unfinished)
	if h.Unfinished > 0 || h.State != "ready" {
		fmt.Fprintln(g.stdout, "Follow it with `wbpay-engine history --state escalated` or the daemon's /v1/events.")
		return silentExit(ExitEscalate)
	}
	return nil
}

// statusByName is the transStatus of its contract name ("PAID").
func statusByName(name string) (paytree.TransStatus, bool) {
	for s := paytree.TransStatus(1); s <= 10; s++ {
		if s.Valid() && s.String() == name {
			return s, true
		}
	}
	return 0, false
}
