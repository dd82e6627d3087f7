package wbpay_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// httptest servers' keep-alive connections wind down asynchronously.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

func code(err error) string {
	var e *wbpay.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestWriteAheadRule: with a journal that fails to commit, no request
// reaches the gateway and the caller gets L0007.
func TestWriteAheadRule(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	restore := crashpoint.Set(func(name string) error {
		if strings.HasSuffix(name, "/journal-before") { // the driver's point before every journal commit
			return errors.New("disk full (injected)")
		}
		return nil
	})
	defer restore()
	err := h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	require.Error(t, err)
	assert.Equal(t, paytree.L0007, code(err))
	var we *wbpay.Error
	require.True(t, errors.As(err, &we))
	assert.Equal(t, paytree.VendorCall, we.Action)
	assert.Empty(t, h.sim.Ledger().Requests, "no request may reach the gateway when the journal cannot be written")
	// The engine is idle again: the next pay, with a working journal, goes through.
	restore()
	res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	require.NoError(t, err)
	assert.Equal(t, fsm.StatePaid, res.State)
}

// TestJournalFailsAfterSend: the answer cannot be journaled; the caller is
// told (L0007) and the next Open finishes the transaction from the journal.
func TestJournalFailsAfterSend(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	commits := 0
	restore := crashpoint.Set(func(name string) error {
		if strings.HasSuffix(name, "/journal-before") {
			commits++
			if commits >= 2 {
				return errors.New("disk full (injected)")
			}
		}
		return nil
	})
	res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	restore()
	require.NoError(t, err)
	// The pay left the host and was paid: L0009 (not L0007, "NOT sent"),
	// with the gateway's answer, so a POS that decides on the code does not
	// charge again (issue 9.2).
	evs := h.waitEvents(1)
	assert.Equal(t, "error:L0009/VendorCall", describe(evs))
	f := evs[0].Failure
	require.NotNil(t, f.Answer, "L0009 carries what the gateway answered")
	assert.Equal(t, paytree.StatusPaid, f.Answer.TransStatus)
	assert.NotEmpty(t, f.Answer.OrderID)
	assert.EqualValues(t, 1000, f.Answer.Amount)
	assert.Contains(t, f.Err.Message, "transStatus PAID")
	assert.Equal(t, fsm.StateSending, h.txn(res.TransactionID).State, "the journal still says sending")
	require.NoError(t, h.eng.Close())

	h.events = nil
	h.open(0)
	require.NoError(t, h.eng.WaitRecovered(context.Background()))
	got := h.waitEvents(1)
	assert.Equal(t, "complete:PAID", describe(got))
	assert.True(t, got[0].Complete.Recovered, "marked as recovered")
	assert.Equal(t, fsm.StatePaid, h.txn(res.TransactionID).State)
	heldBy(1000)(t, h.sim.Ledger(), res)
}

func TestRequestValidation(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"nil pay", func() error { return h.eng.Pay(nil) }, "request"},
		{"zero amount", func() error { return h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, UserCode: "28"}) }, "Amount"},
		{"16-digit amount", func() error {
			return h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1_000_000_000_000_000, UserCode: "28"})
		}, "Amount"},
		{"missing user code", func() error { return h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1}) }, "UserCode"},
		{"user code too long", func() error {
			return h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: long(513)})
		}, "UserCode"},
		{"receipt too long", func() error {
			return h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: "28", ReceiptNo: long(33)})
		}, "ReceiptNo"},
		{"remark too long", func() error {
			return h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: "28", Remark: long(129)})
		}, "Remark"},
		{"JCBAliPay requested", func() error {
			return h.eng.Pay(&wbpay.PayRequest{PayType: paytree.JCBAliPay, Amount: 1, UserCode: "28"})
		}, "JCBAliPay"},
		{"deposit auto-detect", func() error {
			return h.eng.Deposit(&wbpay.DepositRequest{PayType: wbpay.AutoDetect, Amount: 1, UserCode: "36"})
		}, "AutoDetect"},
		{"deposit user code too long", func() error {
			return h.eng.Deposit(&wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 1, UserCode: long(33)})
		}, "UserCode"},
		{"nil refund", func() error { return h.eng.Refund(nil) }, "request"},
		{"refund without order", func() error { return h.eng.Refund(&wbpay.RefundRequest{RefundAmount: 1}) }, "OrderID"},
		{"refund reason too long", func() error {
			return h.eng.Refund(&wbpay.RefundRequest{OrderID: "o", RefundAmount: 1, RefundReason: long(257)})
		}, "RefundReason"},
		{"reverse order too long", func() error { return h.eng.Reverse(&wbpay.ReverseRequest{OrderID: long(33)}) }, "OrderID"},
		{"nil deposit", func() error { return h.eng.Deposit(nil) }, "request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			assert.Equal(t, paytree.L0003, code(err))
			assert.Contains(t, err.Error(), tc.field)
		})
	}
	assert.Empty(t, h.sim.Ledger().Requests, "refused requests send nothing")
}

func TestBusyClosedAndLocked(t *testing.T) {
	h := newHarness(t, harnessOpt{conf: map[string]string{"PayConfirmPollingMode": "no"}})
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(7)}))
	assert.Equal(t, "complete:WAITING", describe(h.waitEvents(1)))
	// The pay waits for PayConfirm: every request method is refused.
	assert.Equal(t, paytree.L0004, code(h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})))
	assert.Equal(t, paytree.L0004, code(h.eng.Refund(&wbpay.RefundRequest{OrderID: "x", RefundAmount: 1})))

	// A second engine on the same home fails at once with L0006.
	start := time.Now()
	_, err := wbpay.Open(context.Background(), wbpay.WithHome(h.home))
	assert.Equal(t, paytree.L0006, code(err), "second Open: %v", err)
	assert.Less(t, time.Since(start), 5*time.Second, "a second Open must not hang")

	require.NoError(t, h.eng.PayConfirm(false))
	got := h.waitEvents(2)
	assert.Equal(t, "complete:WAITING error:E2004/Customer", describe(got))

	require.NoError(t, h.eng.Close())
	assert.Equal(t, paytree.L0005, code(h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: "28"})))
	assert.Equal(t, paytree.L0005, code(h.eng.PayConfirm(true)))
}

func TestPayConfirmByCashier(t *testing.T) {
	h := newHarness(t, harnessOpt{conf: map[string]string{"PayConfirmPollingMode": "no"}, manualClock: true})
	assert.Equal(t, paytree.L0008, code(h.eng.PayConfirm(true)), "nothing is waiting yet")
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(1)}))
	first := h.waitEvents(1)
	require.Equal(t, "complete:WAITING", describe(first))
	id := first[0].Complete.TransactionID

	// The customer has not approved yet (the simulator approves 2 s after
	// the pay, and the clock has not moved): ErrorEvent W0001.
	require.NoError(t, h.eng.PayConfirm(true))
	assert.Equal(t, "complete:WAITING error:W0001/Customer", describe(h.waitEvents(2)))
	assert.Equal(t, fsm.StateWaiting, h.txn(id).State)

	// Two seconds later the customer has approved: PayConfirm(true) completes.
	h.clock.Advance(3 * time.Second)
	require.Eventually(t, func() bool { return h.eng.PayConfirm(true) == nil }, 10*time.Second, time.Millisecond)
	got := h.waitEvents(3)
	assert.Equal(t, "complete:WAITING error:W0001/Customer complete:PAID", describe(got))
	assert.Equal(t, fsm.StatePaid, h.txn(id).State)
	heldBy(1000)(t, h.sim.Ledger(), &wbpay.Result{TransactionID: id})
	assert.Equal(t, paytree.L0008, code(h.eng.PayConfirm(true)), "nothing waits any more")
}

func TestProcessingSettles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  sim.Fault
		state  fsm.State
		events string
		held   int64
	}{
		{"settles paid before the confirm", sim.Fault{Kind: sim.FaultProcessing, Op: paytree.OpPay, Count: 1, Settle: 500 * time.Millisecond}, fsm.StatePaid, "complete:PAID", 1000},
		{"settles failed before the confirm", sim.Fault{Kind: sim.FaultProcessing, Op: paytree.OpPay, Count: 1, Settle: 500 * time.Millisecond, SettleFail: true}, fsm.StateFailed, "error:E2006/Customer", 0},
		{"still processing: reversed", sim.Fault{Kind: sim.FaultProcessing, Op: paytree.OpPay, Count: 1, Settle: time.Hour}, fsm.StateReversed, "error:N0002/Retry", 0},
		{"deposit settles before the confirm", sim.Fault{Kind: sim.FaultProcessing, Op: paytree.OpDeposit, Count: 1, Settle: 500 * time.Millisecond}, fsm.StateDeposited, "complete:DEPOSITED", 1000},
		{"deposit still processing: reversed", sim.Fault{Kind: sim.FaultProcessing, Op: paytree.OpDeposit, Count: 1, Settle: time.Hour}, fsm.StateReversed, "error:N0002/Retry", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{faults: []sim.Fault{tc.fault}})
			var res *wbpay.Result
			var err error
			if tc.fault.Op == paytree.OpDeposit {
				res, err = h.eng.DepositSync(context.Background(), &wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 1000, UserCode: "36123"})
			} else {
				res, err = h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
			}
			require.NoError(t, err)
			evs := h.waitEvents(len(strings.Fields(tc.events)))
			assert.Equal(t, tc.events, describe(evs))
			assert.Equal(t, tc.state, res.State)
			heldBy(tc.held)(t, h.sim.Ledger(), res)
			if tc.state == fsm.StateReversed {
				// Issue 9.6: say what happened, not "timed out".
				msg := evs[len(evs)-1].Failure.Err.Message
				assert.Contains(t, msg, "PROCESSING")
				assert.NotContains(t, msg, "timed out")
			}
		})
	}
}

func TestMissingConfigAndKeys(t *testing.T) {
	home := t.TempDir()
	_, err := wbpay.Open(context.Background(), wbpay.WithHome(home))
	assert.Equal(t, paytree.L0001, code(err))
	assert.Contains(t, err.Error(), "WbCPSPay.conf")

	writeConf(t, home, baseConf("https://127.0.0.1:1"))
	_, err = wbpay.Open(context.Background(), wbpay.WithHome(home))
	assert.Equal(t, paytree.L0002, code(err))
	assert.Contains(t, err.Error(), "client.pem")

	writeKeys(t, home)
	require.NoError(t, os.WriteFile(filepath.Join(home, "gateway.pub"), []byte("not a key"), 0o644))
	_, err = wbpay.Open(context.Background(), wbpay.WithHome(home))
	assert.Equal(t, paytree.L0002, code(err))
	assert.Contains(t, err.Error(), "gateway.pub")
}

// TestRecoveryRefusesRequests: while start-up recovery runs, request methods
// return L0004; once it has finished, they work again.
func TestRecoveryRefusesRequests(t *testing.T) {
	h := newHarness(t, harnessOpt{conf: map[string]string{"PayConfirmPollingMode": "no", "PayConfirmPollingTimeout": "30"}})
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(7)}))
	first := h.waitEvents(1)
	require.Equal(t, "complete:WAITING", describe(first))
	id := first[0].Complete.TransactionID
	require.NoError(t, h.eng.Close()) // the POS goes away while the customer has the phone in hand
	assert.Equal(t, fsm.StateWaiting, h.txn2(id).State)

	h.events = nil
	h.open(0)
	err := h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
	assert.Equal(t, paytree.L0004, code(err), "requests wait for recovery: %v", err)
	require.NoError(t, h.eng.WaitRecovered(context.Background()))
	got := h.waitEvents(1)
	assert.Equal(t, "error:E2005/Customer", describe(got), "the approval timed out during recovery: reversed")
	assert.True(t, got[0].Failure.Recovered)
	reps := h.eng.Recovered()
	require.Len(t, reps, 1)
	assert.Equal(t, fsm.StateWaiting, reps[0].From)
	assert.Equal(t, fsm.StateReversed, reps[0].Result.State)
	heldBy(0)(t, h.sim.Ledger(), &wbpay.Result{TransactionID: id})

	res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
	require.NoError(t, err)
	assert.Equal(t, fsm.StatePaid, res.State)
}

// TestDamagedJournal: a flipped byte in the journal is reported at Open with
// the file named, and the file is left as it was.
func TestDamagedJournal(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	_, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	require.NoError(t, err)
	require.NoError(t, h.eng.Close())
	path := filepath.Join(h.home, wbpay.JournalFile)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	// Flip a byte of every copy of the final state: the last entry and the
	// snapshot both say "paid".
	n := 0
	for i := strings.Index(string(data), "paid"); i >= 0; i = strings.Index(string(data), "paid") {
		data[i] ^= 0x01 // "paid" → "qaid"
		n++
	}
	require.Positive(t, n, "the final state is in the file")
	require.NoError(t, os.WriteFile(path, data, 0o600))

	_, err = wbpay.Open(context.Background(), wbpay.WithHome(h.home), wbpay.WithRootCAs(h.rootCAs()))
	require.Error(t, err)
	assert.Equal(t, paytree.L0007, code(err))
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "damaged")
	t.Logf("Open on a damaged journal: %v", err)
	after, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, data, after, "nothing was rewritten")
}

// TestHandlerStartsNextRequest: an event handler may call a request method;
// the engine is released before the final event is delivered.
func TestHandlerStartsNextRequest(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	second := make(chan error, 1)
	var once sync.Once
	h.eng.OnComplete(func(c wbpay.Completion) {
		h.record(wbpay.Event{Complete: &c})
		once.Do(func() {
			second <- h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 200, UserCode: classCode(0)})
		})
	})
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 100, UserCode: classCode(0)}))
	select {
	case err := <-second:
		require.NoError(t, err, "Pay from inside the CompleteEvent handler")
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never ran or deadlocked")
	}
	got := h.waitEvents(2)
	assert.Equal(t, "complete:PAID complete:PAID", describe(got))
	assert.Equal(t, int64(100), got[0].Complete.Amount)
	assert.Equal(t, int64(200), got[1].Complete.Amount)
}

// TestUntrustedCertificate: a gateway whose certificate is not trusted is
// never sent the pay; the cashier is told to call the vendor (N0006).
func TestUntrustedCertificate(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	require.NoError(t, h.eng.Close())
	eng, err := wbpay.Open(context.Background(), wbpay.WithHome(h.home), wbpay.WithClock(h.clock))
	require.NoError(t, err)
	defer eng.Close()
	res, err := eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateFailed, res.State)
	e := res.Err()
	require.NotNil(t, e)
	assert.Equal(t, paytree.N0006, e.Code)
	assert.Equal(t, paytree.VendorCall, e.Action)
	assert.Equal(t, 1, strings.Count(e.Message, "TLS certificate not trusted"), "message: %s", e.Message)
	assert.Empty(t, h.sim.Ledger().Requests, "nothing reached the gateway")
}
