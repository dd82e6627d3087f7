package sim_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

func withFaults(spec string) func(*sim.Config) {
	return func(c *sim.Config) {
		f, err := sim.ParseFaults(spec)
		if err != nil {
			panic(err)
		}
		c.Faults = f
	}
}

// async posts f from a goroutine; the answer arrives on the channel.
func (e *env) async(ctx context.Context, path string, f paytree.Fields) <-chan answer {
	ch := make(chan answer, 1)
	_, client, _ := testKeys(e.t)
	body := signRequest(e.t, client, f)
	go func() { ch <- e.postRaw(ctx, path, body) }()
	return ch
}

// waiters blocks until n goroutines wait on the fake clock.
func (e *env) waiters(n int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(e.t, e.clock.BlockUntilContext(ctx, n), "waiting for %d clock waiters", n)
}

// TestFaultLost: processed, the connection closed; a resend gets the stored
// answer.
func TestFaultLost(t *testing.T) {
	e := newEnv(t, withFaults("lost:pay:count=1"))
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 800)
	a := e.post(paths.Pay, f)
	require.Error(t, a.err)
	o, held := e.order(rid)
	require.True(t, held, "processed before the answer was lost")
	assert.Equal(t, int64(800), o.MoneyHeld())

	b := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.CodeOK, b.code())
	assert.Equal(t, o.OrderID, b.get(paytree.FOrderID))
	r, _ := e.request(rid)
	assert.Equal(t, 2, r.Count)
	assert.Len(t, e.sim.Ledger().Orders, 1)
}

// TestFaultHold: processed, then held until the client gives up, or until
// the hold's maximum passes (then lost).
func TestFaultHold(t *testing.T) {
	t.Run("client gives up", func(t *testing.T) {
		e := newEnv(t, withFaults("hold:refund"))
		_, oid := e.payOK(500)
		rid := e.id()
		ctx, cancel := context.WithCancel(context.Background())
		ch := e.async(ctx, paths.Refund, e.refundFields(rid, oid, 100))
		require.Eventually(t, func() bool { _, ok := e.request(rid); return ok }, 10*time.Second, time.Millisecond)
		select {
		case <-ch:
			t.Fatal("answered while held")
		default:
		}
		cancel()
		a := <-ch
		require.ErrorIs(t, a.err, context.Canceled)
		l := e.sim.Ledger()
		assert.Equal(t, int64(100), l.Orders[0].RefundedTotal, "processed")
	})
	t.Run("maximum passes", func(t *testing.T) {
		e := newEnv(t, withFaults("hold:pay:delay=30s"))
		rid := e.id()
		ch := e.async(context.Background(), paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 100))
		e.waiters(1)
		_, held := e.order(rid)
		assert.True(t, held, "processed while held")
		e.clock.Advance(30 * time.Second)
		a := <-ch
		require.Error(t, a.err, "lost after the hold")
	})
}

// TestFaultDelays: delay-before waits before processing, delay-after after.
func TestFaultDelays(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		e := newEnv(t, withFaults("delay-before:pay:delay=3s"))
		rid := e.id()
		ch := e.async(context.Background(), paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 100))
		e.waiters(1)
		_, seen := e.request(rid)
		assert.False(t, seen, "not processed during the delay")
		e.clock.Advance(3 * time.Second)
		a := ok(t, <-ch, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
		assert.Equal(t, paytree.FormatTime(testStart.Add(3*time.Second)), a.get(paytree.FTransTime))
	})
	t.Run("before, client gives up", func(t *testing.T) {
		e := newEnv(t, withFaults("delay-before:pay:delay=3s"))
		rid := e.id()
		ctx, cancel := context.WithCancel(context.Background())
		ch := e.async(ctx, paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 100))
		e.waiters(1)
		cancel()
		require.Error(t, (<-ch).err)
		// Close returns once every handler has returned: this one gave up
		// its delay when its client did (BlockUntil cannot wait for zero
		// waiters: it returns at once).
		e.srv.Close()
		e.clock.Advance(time.Minute)
		_, seen := e.request(rid)
		assert.False(t, seen, "left unprocessed")
		assert.Empty(t, e.sim.Ledger().Orders)
	})
	t.Run("after", func(t *testing.T) {
		e := newEnv(t, withFaults("delay-after:any:delay=2s"))
		rid := e.id()
		ch := e.async(context.Background(), paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 100))
		e.waiters(1)
		_, held := e.order(rid)
		assert.True(t, held, "processed before the delay")
		e.clock.Advance(2 * time.Second)
		a := ok(t, <-ch, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
		assert.Equal(t, paytree.FormatTime(testStart), a.get(paytree.FTransTime))
		assert.Equal(t, paytree.FormatTime(testStart.Add(2*time.Second)), a.get(paytree.FResponseTime))
	})
	t.Run("config delay", func(t *testing.T) {
		e := newEnv(t, func(c *sim.Config) { c.Delay = time.Second })
		rid := e.id()
		ch := e.async(context.Background(), paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 100))
		e.waiters(1)
		e.clock.Advance(time.Second)
		a := ok(t, <-ch, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
	})
}

// TestFault500: before processing nothing is recorded; after, the resend
// gets the stored answer.
func TestFault500(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		e := newEnv(t, withFaults("500-before:pay:count=1"))
		rid := e.id()
		f := e.payFields(rid, "PAYPAY", classCode(0), 100)
		a := e.post(paths.Pay, f)
		require.NoError(t, a.err)
		assert.Equal(t, http.StatusInternalServerError, a.status)
		_, seen := e.request(rid)
		assert.False(t, seen)
		assert.Empty(t, e.sim.Ledger().Orders)
		b := ok(t, e.post(paths.Pay, f), rid)
		assert.Equal(t, paytree.CodeOK, b.code())
		r, _ := e.request(rid)
		assert.Equal(t, 1, r.Count, "processed afresh")
	})
	t.Run("after", func(t *testing.T) {
		e := newEnv(t, withFaults("500-after:refund:count=1"))
		pid, oid := e.payOK(1000)
		rid := e.id()
		f := e.refundFields(rid, oid, 300)
		a := e.post(paths.Refund, f)
		assert.Equal(t, http.StatusInternalServerError, a.status)
		o, _ := e.order(pid)
		assert.Equal(t, int64(300), o.RefundedTotal, "processed")
		b := ok(t, e.post(paths.Refund, f), rid)
		assert.Equal(t, "300", b.get(paytree.FRefundedTotal))
		o, _ = e.order(pid)
		assert.Equal(t, int64(300), o.RefundedTotal, "not refunded twice")
	})
}

// TestFaultBadSign: the answer arrives but its signature does not verify.
func TestFaultBadSign(t *testing.T) {
	e := newEnv(t, withFaults("bad-sign:pay:count=1"))
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 100)
	a := e.post(paths.Pay, f)
	require.NoError(t, a.err)
	require.Equal(t, http.StatusOK, a.status)
	require.Error(t, a.sigErr, "signature corrupted")
	assert.Equal(t, paytree.CodeOK, a.code())
	_, held := e.order(rid)
	assert.True(t, held)
	b := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, a.get(paytree.FOrderID), b.get(paytree.FOrderID))
}

// TestFaultE9001: processed, answered E9001; confirm and resend tell the
// truth.
func TestFaultE9001(t *testing.T) {
	e := newEnv(t, withFaults("e9001:pay:count=1"))
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 100)
	a := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.E9001, a.code())
	r, _ := e.request(rid)
	assert.Equal(t, paytree.CodeOK, r.ResultCode, "recorded as processed")
	c := e.confirmOK(rid, false)
	assert.Equal(t, paytree.StatusPaid.Wire(), c.get(paytree.FTransStatus))
	b := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.CodeOK, b.code())
}

// TestFaultE9002: not processed, not recorded.
func TestFaultE9002(t *testing.T) {
	e := newEnv(t, withFaults("e9002:any:count=1"))
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 100)
	a := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.E9002, a.code())
	_, seen := e.request(rid)
	assert.False(t, seen)
	assert.Empty(t, e.sim.Ledger().Orders)
	b := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.CodeOK, b.code())
}

// TestFaultExtraField: an unknown signed field with awkward characters.
func TestFaultExtraField(t *testing.T) {
	e := newEnv(t, withFaults("extra-field:confirm"))
	pid, _ := e.payOK(100)
	c := e.confirmOK(pid, false) // ok() verified the signature over every field
	assert.Equal(t, sim.ExtraFieldValue, c.get(sim.ExtraFieldName))
	assert.Contains(t, sim.ExtraFieldValue, "&")
	assert.Contains(t, sim.ExtraFieldValue, "=")
	assert.Contains(t, sim.ExtraFieldValue, "%")
	assert.Contains(t, paytree.Canonical(c.fields), sim.ExtraFieldName+"=")
	assert.Equal(t, paytree.StatusPaid.Wire(), c.get(paytree.FTransStatus))
}

// TestFaultProcessing: the pay answers 3, confirms answer 3 until the settle
// time, then PAID (or FAILED with E2006).
func TestFaultProcessing(t *testing.T) {
	tests := []struct {
		spec, op     string
		final        paytree.TransStatus
		finalCode    string
		held         int64
		answerStatus string
	}{
		{"processing:pay:settle=5s", "pay", paytree.StatusPaid, paytree.CodeOK, 400, "3"},
		{"processing:pay:settle=5s:fail", "pay", paytree.StatusFailed, paytree.E2006, 0, "3"},
		{"processing:deposit:settle=5s", "deposit", paytree.StatusDeposited, paytree.CodeOK, 400, "3"},
		{"processing:any:settle=5s:fail", "deposit", paytree.StatusFailed, paytree.E2006, 0, "3"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			e := newEnv(t, withFaults(tc.spec))
			var rid string
			var a answer
			if tc.op == "pay" {
				rid, a = e.pay("PAYPAY", classCode(0), 400)
			} else {
				rid, a = e.deposit("LINE", 400)
			}
			ok(t, a, rid)
			require.Equal(t, paytree.CodeOK, a.code())
			assert.Equal(t, tc.answerStatus, a.get(paytree.FTransStatus))

			e.clock.Advance(4 * time.Second)
			c := e.confirmOK(rid, false)
			assert.Equal(t, "3", c.get(paytree.FTransStatus))
			assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
			o, _ := e.order(rid)
			assert.Equal(t, int(paytree.StatusProcessing), o.TransStatus)
			assert.Equal(t, int64(0), o.MoneyHeld(), "PROCESSING is not counted as held")

			e.clock.Advance(time.Second)
			c = e.confirmOK(rid, false)
			assert.Equal(t, tc.final.Wire(), c.get(paytree.FTransStatus))
			assert.Equal(t, tc.finalCode, c.get(paytree.FTargetResultCode))
			assert.Equal(t, a.get(paytree.FOrderID), c.get(paytree.FOrderID))
			o, _ = e.order(rid)
			assert.Equal(t, int(tc.final), o.TransStatus)
			assert.Equal(t, tc.held, o.MoneyHeld())
		})
	}
	t.Run("reversed while processing", func(t *testing.T) {
		e := newEnv(t, withFaults("processing:pay:settle=5s"))
		rid, a := e.pay("PAYPAY", classCode(1), 400)
		ok(t, a, rid)
		assert.Equal(t, "3", a.get(paytree.FTransStatus), "processing replaces the approval")
		vid, v := e.reverseByRequest(rid)
		ok(t, v, vid)
		assert.Equal(t, "400", v.get(paytree.FAmount))
		e.clock.Advance(10 * time.Second)
		o, _ := e.order(rid)
		assert.Equal(t, int(paytree.StatusReversed), o.TransStatus, "no settle after the reverse")
	})
	t.Run("refusals are not processing", func(t *testing.T) {
		e := newEnv(t, withFaults("processing:pay:count=1"))
		rid, a := e.pay("PAYPAY", classCode(3), 400)
		ok(t, a, rid)
		assert.Equal(t, paytree.E2001, a.code())
		rid, a = e.pay("PAYPAY", classCode(0), 400)
		ok(t, a, rid)
		assert.Equal(t, "3", a.get(paytree.FTransStatus), "the count was not used by the refusal")
		c := e.confirmOK(rid, false)
		assert.Equal(t, "1", c.get(paytree.FTransStatus), "settle=0: the first confirm sees PAID")
	})
}

// TestFaultSelection: operations, counts, exclusivity and SetFaults.
func TestFaultSelection(t *testing.T) {
	t.Run("other operations untouched", func(t *testing.T) {
		e := newEnv(t, withFaults("e9002:refund"))
		rid, a := e.pay("PAYPAY", classCode(0), 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
		fid, f := e.refund(a.get(paytree.FOrderID), 10)
		ok(t, f, fid)
		assert.Equal(t, paytree.E9002, f.code())
	})
	t.Run("exclusive answers", func(t *testing.T) {
		e := newEnv(t, withFaults("lost:pay:count=1,e9001:pay:count=1"))
		_, a := e.pay("PAYPAY", classCode(0), 100)
		require.Error(t, a.err, "lost first")
		rid, b := e.pay("PAYPAY", classCode(0), 100)
		ok(t, b, rid)
		assert.Equal(t, paytree.E9001, b.code(), "e9001 was not used up by the lost pay")
		rid, c := e.pay("PAYPAY", classCode(0), 100)
		ok(t, c, rid)
		assert.Equal(t, paytree.CodeOK, c.code())
	})
	t.Run("SetFaults", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.SetFaults([]sim.Fault{{Kind: sim.FaultE9002, Op: paytree.OpPay, Count: 1}, {Kind: "bogus"}})
		rid, a := e.pay("PAYPAY", classCode(0), 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.E9002, a.code())
		rid, a = e.pay("PAYPAY", classCode(0), 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
		e.sim.SetFaults(nil)
		rid, a = e.pay("PAYPAY", classCode(0), 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
	})
	t.Run("a seeded run replays", func(t *testing.T) {
		run := func() []bool {
			e := newEnv(t, func(c *sim.Config) {
				c.Faults = []sim.Fault{{Kind: sim.FaultE9002, Op: paytree.OpPay, Probability: 0.5}}
				c.Seed = 42
			})
			var out []bool
			for i := 0; i < 16; i++ {
				rid, a := e.pay("PAYPAY", classCode(0), 100)
				ok(t, a, rid)
				out = append(out, a.code() == paytree.E9002)
			}
			return out
		}
		first, second := run(), run()
		assert.Equal(t, first, second)
		assert.Contains(t, first, true)
		assert.Contains(t, first, false)
	})
}
