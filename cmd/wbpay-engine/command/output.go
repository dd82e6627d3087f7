package command

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/slip"
)

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jst formats t in JST, to the second; "" for the zero time.
func jst(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(paytree.JST).Format("2006-01-02 15:04:05")
}

// rfc3339 formats t in JST as RFC 3339 (with fraction when present); "" for zero.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(paytree.JST).Format(time.RFC3339Nano)
}

// yen formats an amount with thousands separators: 1,234,567 yen.
func yen(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String() + " yen"
	}
	return b.String() + " yen"
}

// advice says in plain words whom the store staff should call for action a.
func advice(a paytree.Action) string {
	switch a {
	case paytree.Retry:
		return "nothing moved: you may try again"
	case paytree.Customer:
		return "ask the customer (another payment method, top up, or approve on their phone)"
	case paytree.VendorCall:
		return "call your system vendor (configuration or software problem)"
	case paytree.CPSCall:
		return "call CPS (the gateway operator): only they can settle this transaction"
	}
	return ""
}

// channelCode returns c's wire code, "" for AutoDetect.
func channelCode(c paytree.Channel) string { return c.Code() }

// statusName returns s's contract name, "" for none.
func statusName(s paytree.TransStatus) string {
	if !s.Valid() {
		return ""
	}
	return s.String()
}

// eventJSON is one CompleteEvent or ErrorEvent in -o json output. Every
// event has kind, type, code, subCode, message and action; a complete event
// has code "0000" and also the order's fields.
type eventJSON struct {
	Kind          string `json:"kind"` // complete | error
	Request       string `json:"request"`
	Type          int    `json:"type"`
	Code          string `json:"code"`
	SubCode       string `json:"subCode"`
	Message       string `json:"message"`
	Action        string `json:"action"`
	OrderID       string `json:"orderId,omitempty"`
	TransStatus   string `json:"transStatus,omitempty"`
	Amount        int64  `json:"amount,omitempty"`
	PayType       string `json:"payType,omitempty"`
	RefundedTotal int64  `json:"refundedTotal,omitempty"`
	TransTime     string `json:"transTime,omitempty"`
	Recovered     bool   `json:"recovered,omitempty"`
}

// resultJSON is a Result in -o json output.
type resultJSON struct {
	TransactionID string      `json:"transactionId"`
	Operation     string      `json:"operation"`
	State         string      `json:"state"`
	OrderID       string      `json:"orderId"`
	TransStatus   string      `json:"transStatus"`
	Amount        int64       `json:"amount"`
	PayType       string      `json:"payType"`
	Recovered     bool        `json:"recovered,omitempty"`
	Replayed      bool        `json:"replayed,omitempty"` // the idempotency key had started it: nothing was sent again
	Events        []eventJSON `json:"events"`
	// Receipt is what a slip needs (brand, amount, order, time, store,
	// masked user code, the void deadline), once the transaction finished.
	Receipt *wbpay.Receipt `json:"receipt,omitempty"`
}

func toEventJSON(ev wbpay.Event) eventJSON {
	switch {
	case ev.Complete != nil:
		c := ev.Complete
		return eventJSON{Kind: "complete", Request: c.Request.String(), Code: paytree.CodeOK,
			Message: completionText(c), OrderID: c.OrderID, TransStatus: statusName(c.TransStatus),
			Amount: c.Amount, PayType: channelCode(c.PayType), RefundedTotal: c.RefundedTotal,
			TransTime: c.TransTime, Recovered: c.Recovered}
	case ev.Failure != nil:
		f := ev.Failure
		out := eventJSON{Kind: "error", Request: f.Request.String(), Recovered: f.Recovered}
		if e := f.Err; e != nil {
			out.Type, out.Code, out.SubCode, out.Message, out.Action = int(e.Type), e.Code, e.SubCode, e.Message, e.Action.String()
		}
		return out
	}
	return eventJSON{Kind: "unknown"}
}

func toResultJSON(r *wbpay.Result) resultJSON {
	out := resultJSON{TransactionID: r.TransactionID, Operation: r.Operation.String(), State: string(r.State),
		OrderID: r.OrderID, TransStatus: statusName(r.TransStatus), Amount: r.Amount, PayType: channelCode(r.PayType),
		Recovered: r.Recovered, Replayed: r.Replayed, Events: []eventJSON{}, Receipt: r.Receipt}
	for _, ev := range r.Events {
		out.Events = append(out.Events, toEventJSON(ev))
	}
	return out
}

// completionText is a CompleteEvent in a few words.
func completionText(c *wbpay.Completion) string {
	switch c.TransStatus {
	case paytree.StatusWaiting:
		return "WAITING: the customer must approve on their phone"
	case 0:
		return c.Request.String() + " done"
	}
	s := c.Request.String() + " " + c.TransStatus.String()
	if c.Amount > 0 {
		s += " " + yen(c.Amount)
	}
	if c.RefundedTotal > 0 {
		s += ", refunded so far " + yen(c.RefundedTotal)
	}
	return s
}

// exitForResult maps where a sequence ended to the exit code.
func exitForResult(r *wbpay.Result) int {
	switch r.State {
	case wbpay.StatePaid, wbpay.StateDeposited, wbpay.StateRefunded:
		return ExitOK
	case wbpay.StateReversed:
		if r.Operation == paytree.OpReverse {
			return ExitOK
		}
		return ExitRefused
	case wbpay.StateFailed:
		return ExitRefused
	}
	return ExitEscalate // escalated, or not finished: the outcome is unknown
}

// headline says in one line where a request ended, for the cashier.
func headline(r *wbpay.Result) string {
	op := r.Operation
	switch r.State {
	case wbpay.StatePaid:
		s := "PAID: " + yen(r.Amount)
		if r.PayType != paytree.AutoDetect {
			s += " with " + r.PayType.String()
		}
		return s
	case wbpay.StateDeposited:
		return "DEPOSITED: " + yen(r.Amount) + " onto the customer's " + r.PayType.String() + " wallet"
	case wbpay.StateRefunded:
		return "REFUNDED: " + yen(r.Amount) + " of order " + r.OrderID
	case wbpay.StateReversed:
		if op == paytree.OpReverse {
			return "REVERSED: order " + r.OrderID + " is cancelled, " + yen(r.Amount) + " returned"
		}
		return "NOT " + pastTense(op) + ": the " + op.String() + " was undone (reversed); nothing was charged"
	case wbpay.StateFailed:
		switch op {
		case paytree.OpPay, paytree.OpDeposit:
			return "REFUSED: nothing was charged"
		case paytree.OpRefund:
			return "REFUND REFUSED: nothing was refunded"
		}
		return "REVERSE REFUSED: the order is unchanged"
	case wbpay.StateEscalated:
		return "NEEDS A PERSON: the outcome could not be settled — call CPS"
	}
	return fmt.Sprintf("UNFINISHED (state %s): run `wbpay-engine recover` to finish it", r.State)
}

func pastTense(op paytree.Operation) string {
	switch op {
	case paytree.OpPay:
		return "PAID"
	case paytree.OpDeposit:
		return "DEPOSITED"
	}
	return strings.ToUpper(op.String()) + "ED"
}

// printResult writes r for people: the headline, the ids, then every event
// with, for errors, the message and whom to call.
func printResult(w io.Writer, r *wbpay.Result) {
	fmt.Fprintln(w, headline(r))
	fmt.Fprintf(w, "  transaction  %s (%s, state %s)\n", r.TransactionID, r.Operation, r.State)
	if r.OrderID != "" {
		fmt.Fprintf(w, "  order        %s\n", r.OrderID)
	}
	if st := statusName(r.TransStatus); st != "" {
		fmt.Fprintf(w, "  status       %s\n", st)
	}
	if r.Recovered {
		fmt.Fprintln(w, "  finished by recovery after a restart")
	}
	if r.Replayed {
		fmt.Fprintln(w, "  already started under this idempotency key: nothing was sent again (this is where it stands)")
	}
	if rc := r.Receipt; rc != nil && !rc.ReversibleUntil.IsZero() {
		fmt.Fprintf(w, "  reversible   until %s JST (取消期限; later only a refund undoes it)\n", jst(rc.ReversibleUntil))
	}
	for _, ev := range r.Events {
		printEvent(w, ev)
	}
}

// printEvent writes one event, indented, with advice for an error.
func printEvent(w io.Writer, ev wbpay.Event) {
	switch {
	case ev.Complete != nil:
		fmt.Fprintf(w, "  ✓ %s\n", completionText(ev.Complete))
	case ev.Failure != nil && ev.Failure.Err != nil:
		printError(w, ev.Failure.Err, "  ")
	}
}

// printError writes an engine error: code and message, the Japanese
// message of the catalog, and whom to call.
func printError(w io.Writer, e *wbpay.Error, indent string) {
	line := indent + "✗ " + e.Code + " " + e.Message
	if e.SubCode != "" {
		line += " [sub-code " + e.SubCode + "]"
	}
	fmt.Fprintln(w, line)
	if def, ok := paytree.LookupError(e.Code); ok && def.MessageJA != "" {
		fmt.Fprintln(w, indent+"  "+def.MessageJA)
	}
	if e.Action != paytree.ActionNone {
		fmt.Fprintf(w, "%s  what to do: %s (%s)\n", indent, advice(e.Action), e.Action)
	}
}

// txnJSON is a transaction snapshot in -o json output.
type txnJSON struct {
	TransactionID  string     `json:"transactionId"`
	Operation      string     `json:"operation"`
	State          string     `json:"state"`
	OrderID        string     `json:"orderId"`
	Amount         int64      `json:"amount"`
	PayType        string     `json:"payType,omitempty"`
	TransStatus    string     `json:"transStatus,omitempty"`
	ReceiptNo      string     `json:"receiptNo,omitempty"`
	UserCodeMasked string     `json:"userCodeMasked,omitempty"`
	CreatedAt      string     `json:"createdAt"`
	UpdatedAt      string     `json:"updatedAt"`
	WaitingSince   string     `json:"waitingSince,omitempty"`
	LastError      *errorJSON `json:"lastError,omitempty"`
	Recovered      bool       `json:"recovered,omitempty"`
	IdempotencyKey string     `json:"idempotencyKey,omitempty"`
	// Resolution and ResolvedBy: what a person recorded for an escalated
	// transaction (state resolved).
	Resolution string `json:"resolution,omitempty"`
	ResolvedBy string `json:"resolvedBy,omitempty"`
	// Standing of a pay or deposit (history): refunds and the reverse of
	// its order, and whether the channel still holds money of it.
	RefundedTotal *int64 `json:"refundedTotal,omitempty"`
	ReversedBy    string `json:"reversedBy,omitempty"`
	Held          *bool  `json:"held,omitempty"`
}

// errorJSON is a journaled error.
type errorJSON struct {
	Type    int    `json:"type"`
	Code    string `json:"code"`
	SubCode string `json:"subCode"`
	Message string `json:"message"`
	Action  string `json:"action"`
}

func toErrorJSON(e *journal.ErrorInfo) *errorJSON {
	if e == nil {
		return nil
	}
	return &errorJSON{Type: e.Type, Code: e.Code, SubCode: e.SubCode, Message: e.Message, Action: e.Action}
}

func toTxnJSON(t *journal.Txn) txnJSON {
	return txnJSON{TransactionID: t.ID, Operation: t.Op.String(), State: string(t.State), OrderID: t.OrderID,
		Amount: t.Amount, PayType: t.PayType, TransStatus: statusName(paytree.TransStatus(t.TransStatus)),
		ReceiptNo: t.ReceiptNo, UserCodeMasked: t.UserCodeMasked, CreatedAt: rfc3339(t.CreatedAt),
		UpdatedAt: rfc3339(t.UpdatedAt), WaitingSince: rfc3339(t.WaitingSince), LastError: toErrorJSON(t.LastError),
		Recovered: t.Recovered, IdempotencyKey: t.IdempotencyKey,
		Resolution: t.Request[journal.KeyResolution], ResolvedBy: t.Request[journal.KeyResolvedBy]}
}

// payTypeName returns the channel name of a wire code ("" for none).
func payTypeName(code string) string {
	if code == "" {
		return ""
	}
	if c, ok := paytree.ChannelFromCode(code); ok {
		return c.String()
	}
	return code
}

// table writes rows (after header, when not nil) as aligned columns
// separated by two spaces; a wide character (kanji, kana) counts as two
// columns, as a terminal shows it.
func table(w io.Writer, header []string, rows [][]string) {
	all := rows
	if header != nil {
		all = append([][]string{header}, rows...)
	}
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], slip.Columns(c))
		}
	}
	for _, r := range all {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-slip.Columns(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
