package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/slip"
)

// The store-day routes: interim and daily totals (Engine.Report), a
// transaction's receipt and its slip (Engine.Receipt, Engine.PrintReceipt,
// package slip), and the resolution of an escalated transaction
// (Engine.Resolve). The report and receipt objects are the engine's own
// JSON forms (wbpay.Report, wbpay.Receipt, wbpay.Printed), so the CLI
// prints the same through the daemon as without it.

// datePattern is the form of ?date=.
var datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// dateParam reads ?date=YYYY-MM-DD ("" when absent: today).
func dateParam(r *http.Request) (string, *apiError) {
	q := r.URL.Query()
	if !q.Has("date") {
		return "", nil
	}
	v := q.Get("date")
	if !datePattern.MatchString(v) {
		return "", badField("date", fmt.Sprintf("date %q is not YYYY-MM-DD (a JST business day)", clip(v)))
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return "", badField("date", fmt.Sprintf("date %q is not a calendar day", clip(v)))
	}
	return v, nil
}

// serveReport is GET /v1/reports/interim and POST /v1/reports/daily.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request, kind wbpay.ReportKind) {
	if e := onlyParams(r, "date"); e != nil {
		s.fail(w, r, e)
		return
	}
	day, e := dateParam(r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if kind == wbpay.ReportDaily && !s.recoveredNow() {
		// A close counts settled money only: let recovery finish first.
		s.fail(w, r, newAPIError(http.StatusServiceUnavailable, codeBusy, "start-up recovery has not finished (see /v1/health); a close counts only settled money"))
		return
	}
	rep, err := s.eng.Report(kind, day)
	if err != nil {
		e := fromEngine(err, !s.recoveredNow())
		if e.body.Code == codeBadField {
			e.body.Field = "date"
		}
		s.fail(w, r, e)
		return
	}
	if kind == wbpay.ReportDaily {
		s.log.Info("api: daily report", zap.String("day", rep.Day), zap.Bool("reprint", rep.Reprint), zap.Uint64("close-seq", rep.CloseSeq))
	}
	writeJSONAnswer(w, http.StatusOK, rep)
}

// serveReceipt is GET /v1/transactions/{id}/receipt.
func (s *Server) serveReceipt(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r); e != nil {
		s.fail(w, r, e)
		return
	}
	id := r.PathValue("id")
	if _, err := s.eng.Audit().Get(id); err != nil {
		s.failRead(w, r, id, err)
		return
	}
	rc, err := s.eng.Receipt(id)
	if err != nil {
		s.fail(w, r, idField(fromEngine(err, !s.recoveredNow())))
		return
	}
	writeJSONAnswer(w, http.StatusOK, rc)
}

// slipBody is the answer of POST /v1/transactions/{id}/receipt: the
// engine's Printed (receipt, copy, count, reprint, at, first), the width
// and the slip's text.
type slipBody struct {
	*wbpay.Printed
	Width int    `json:"width"`
	Text  string `json:"text"`
}

// servePrint is POST /v1/transactions/{id}/receipt?copy=&width=: it
// records one print of the copy, then answers the slip.
func (s *Server) servePrint(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r, "copy", "width"); e != nil {
		s.fail(w, r, e)
		return
	}
	q := r.URL.Query()
	c := wbpay.CustomerCopy
	if q.Has("copy") {
		c = wbpay.Copy(q.Get("copy"))
		if c != wbpay.CustomerCopy && c != wbpay.MerchantCopy {
			s.fail(w, r, badField("copy", fmt.Sprintf("copy %q is neither customer nor merchant", clip(q.Get("copy")))))
			return
		}
	}
	width := slip.Width32
	if q.Has("width") {
		n, err := strconv.Atoi(q.Get("width"))
		if err != nil || (n != slip.Width32 && n != slip.Width42) {
			// Checked before the print is recorded: a bad width never
			// costs an original.
			s.fail(w, r, badField("width", fmt.Sprintf("width must be %d or %d columns", slip.Width32, slip.Width42)))
			return
		}
		width = n
	}
	id := r.PathValue("id")
	if _, err := s.eng.Audit().Get(id); err != nil {
		s.failRead(w, r, id, err)
		return
	}
	p, err := s.eng.PrintReceipt(id, c)
	if err != nil {
		s.fail(w, r, idField(fromEngine(err, !s.recoveredNow())))
		return
	}
	text, err := slip.Render(p, width)
	if err != nil {
		s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "render the slip: "+err.Error()))
		return
	}
	s.log.Info("api: receipt printed", zap.String("txn-id", id), zap.String("copy", string(c)), zap.Int("count", p.Count))
	writeJSONAnswer(w, http.StatusOK, slipBody{Printed: p, Width: width, Text: text})
}

// idField names the path's id in an L0003 about the transaction (not
// finished, not a money operation).
func idField(e *apiError) *apiError {
	if e.body.Code == codeBadField && e.body.Field == "" {
		e.body.Field = "id"
	}
	return e
}

// outcomes are the states a resolve may record.
var outcomes = []wbpay.State{wbpay.StatePaid, wbpay.StateDeposited, wbpay.StateRefunded, wbpay.StateReversed, wbpay.StateFailed}

// serveResolve is POST /v1/transactions/{id}/resolve.
func (s *Server) serveResolve(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r); e != nil {
		s.fail(w, r, e)
		return
	}
	body, e := readBody(w, r, "resolve")
	if e != nil {
		s.fail(w, r, e)
		return
	}
	outcome := wbpay.State(body.str("outcome"))
	known := false
	for _, o := range outcomes {
		known = known || o == outcome
	}
	if !known {
		s.fail(w, r, badField("outcome", fmt.Sprintf("outcome %q is not paid, deposited, refunded, reversed or failed", clip(string(outcome)))))
		return
	}
	id := r.PathValue("id")
	if _, err := s.eng.Audit().Get(id); err != nil {
		s.failRead(w, r, id, err)
		return
	}
	if !s.recoveredNow() {
		s.fail(w, r, newAPIError(http.StatusServiceUnavailable, codeBusy, "start-up recovery has not finished (see /v1/health)"))
		return
	}
	if _, err := s.eng.Resolve(id, outcome, body.str("operator"), body.str("note")); err != nil {
		e := fromEngine(err, !s.recoveredNow())
		if e.body.Code == codeBadField {
			e.body.Field = resolveField(e.body.Message)
		}
		s.fail(w, r, e)
		return
	}
	s.log.Info("api: resolved", zap.String("txn-id", id), zap.String("outcome", string(outcome)))
	t, err := s.eng.Audit().Get(id)
	if err != nil {
		s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "read the transaction: "+err.Error()))
		return
	}
	w.Header().Set("Location", "/v1/transactions/"+id)
	writeJSONAnswer(w, http.StatusOK, txnOf(s.eng, t))
}

// resolveField finds the body field an engine L0003 of Resolve names; "id"
// when it is about the transaction (unknown, not escalated).
func resolveField(msg string) string {
	_, detail, ok := strings.Cut(msg, ": ")
	if !ok {
		detail = msg
	}
	for _, f := range []string{"operator", "note", "outcome"} {
		if strings.HasPrefix(detail, f+" ") {
			return f
		}
	}
	return "id"
}
