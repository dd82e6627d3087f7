package sim_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// TestPayClasses runs every pay class of contract section 9, selected both
// by the userCode override and by Config.Classes.Pay.
func TestPayClasses(t *testing.T) {
	tests := []struct {
		class      int
		wantCode   string
		wantStatus paytree.TransStatus // of the answer; 0 when refused
	}{
		{0, paytree.CodeOK, paytree.StatusPaid},
		{1, paytree.CodeOK, paytree.StatusWaiting},
		{3, paytree.E2001, 0},
		{4, paytree.E2002, 0},
		{5, paytree.E2003, 0},
		{6, paytree.CodeOK, paytree.StatusWaiting},
		{7, paytree.CodeOK, paytree.StatusWaiting},
	}
	for _, tc := range tests {
		for _, how := range []string{"override", "config"} {
			t.Run(how+"/class"+strconv.Itoa(tc.class), func(t *testing.T) {
				userCode := classCode(tc.class)
				e := newEnv(t, func(c *sim.Config) {
					if how == "config" {
						c.Classes.Pay = tc.class
					}
				})
				if how == "config" {
					userCode = "281234567890123456"
				}
				rid, a := e.pay("PAYPAY", userCode, 1000)
				ok(t, a, rid)
				assert.Equal(t, tc.wantCode, a.code(), "resultCode: %v", a.fields)
				o, held := e.order(rid)
				if tc.wantStatus == 0 {
					assert.False(t, held, "a refused pay creates no order")
					assert.Empty(t, a.get(paytree.FOrderID))
					assert.Equal(t, "SIM-"+tc.wantCode[1:], a.get(paytree.FErrorSubCode))
					return
				}
				require.True(t, held)
				assert.Equal(t, tc.wantStatus.Wire(), a.get(paytree.FTransStatus))
				assert.Len(t, a.get(paytree.FOrderID), 32, "orderId")
				assert.Equal(t, o.OrderID, a.get(paytree.FOrderID))
				assert.Equal(t, "1000", a.get(paytree.FAmount))
				assert.Equal(t, "PAYPAY", a.get(paytree.FPayType))
				assert.Equal(t, paytree.FormatTime(testStart), a.get(paytree.FTransTime))
				assert.Equal(t, int(tc.wantStatus), o.TransStatus)
			})
		}
	}
}

// TestApprovalTimers drives classes 1, 6 and 7 with the fake clock.
func TestApprovalTimers(t *testing.T) {
	tests := []struct {
		class     int
		wait      time.Duration
		final     paytree.TransStatus
		finalCode string // targetResultCode of the confirm afterwards
		config    func(*sim.Config)
	}{
		{1, sim.DefaultApproveAfter, paytree.StatusPaid, paytree.CodeOK, nil},
		{6, sim.DefaultApproveAfter, paytree.StatusCancelled, paytree.E2004, nil},
		{7, sim.DefaultApprovalTimeout, paytree.StatusExpired, paytree.E2005, nil},
		{1, 5 * time.Second, paytree.StatusPaid, paytree.CodeOK, func(c *sim.Config) { c.ApproveAfter = 5 * time.Second }},
		{7, 90 * time.Second, paytree.StatusExpired, paytree.E2005, func(c *sim.Config) { c.ApprovalTimeout = 90 * time.Second }},
	}
	for _, tc := range tests {
		t.Run("class"+strconv.Itoa(tc.class)+"/"+tc.wait.String(), func(t *testing.T) {
			e := newEnv(t, tc.config)
			rid, a := e.pay("LINE", classCode(tc.class), 500)
			ok(t, a, rid)
			require.Equal(t, paytree.StatusWaiting.Wire(), a.get(paytree.FTransStatus))

			e.clock.Advance(tc.wait - time.Millisecond)
			c := e.confirmOK(rid, false)
			assert.Equal(t, paytree.StatusWaiting.Wire(), c.get(paytree.FTransStatus), "just before the customer acts")
			o, _ := e.order(rid)
			assert.Equal(t, int(paytree.StatusWaiting), o.TransStatus)

			e.clock.Advance(time.Millisecond)
			c = e.confirmOK(rid, false)
			assert.Equal(t, tc.finalCode, c.get(paytree.FTargetResultCode))
			assert.Equal(t, tc.final.Wire(), c.get(paytree.FTransStatus))
			assert.Equal(t, a.get(paytree.FOrderID), c.get(paytree.FOrderID))
			assert.Equal(t, "500", c.get(paytree.FAmount))
			assert.Equal(t, "LINE", c.get(paytree.FPayType))
			o, _ = e.order(rid)
			assert.Equal(t, int(tc.final), o.TransStatus)
			wantHeld := int64(0)
			if tc.final == paytree.StatusPaid {
				wantHeld = 500
			}
			assert.Equal(t, wantHeld, o.MoneyHeld())

			// A resend of the pay repeats its first answer: WAITING.
			again := ok(t, e.post(paths.Pay, e.payFields(rid, "LINE", classCode(tc.class), 500)), rid)
			assert.Equal(t, paytree.StatusWaiting.Wire(), again.get(paytree.FTransStatus))
		})
	}
}

// TestLedgerSettlesLazily: the ledger evaluates approval timers by itself.
func TestLedgerSettlesLazily(t *testing.T) {
	e := newEnv(t, nil)
	rid, a := e.pay("PAYPAY", classCode(1), 700)
	ok(t, a, rid)
	o, _ := e.order(rid)
	assert.Equal(t, int(paytree.StatusWaiting), o.TransStatus)
	assert.Equal(t, int64(0), o.MoneyHeld())
	e.clock.Advance(sim.DefaultApproveAfter)
	o, _ = e.order(rid)
	assert.Equal(t, int(paytree.StatusPaid), o.TransStatus)
	assert.Equal(t, int64(700), o.MoneyHeld())
}

// TestPayClass2 is the lost-for-ever pay: processed PAID, every answer about
// it lost (resends and confirms), only its reverse answered.
func TestPayClass2(t *testing.T) {
	e := newEnv(t, nil)
	rid := e.id()
	pay := e.payFields(rid, "PAYPAY", classCode(2), 1200)
	a := e.post(paths.Pay, pay)
	require.Error(t, a.err, "the pay's answer is lost")
	o, held := e.order(rid)
	require.True(t, held, "the pay was processed")
	assert.Equal(t, int(paytree.StatusPaid), o.TransStatus)
	assert.Equal(t, int64(1200), o.MoneyHeld())

	a = e.post(paths.Pay, pay)
	require.Error(t, a.err, "a resend's answer is lost too")
	for i := 0; i < 2; i++ {
		_, c := e.confirm(rid, false)
		require.Error(t, c.err, "every confirm of it is lost")
	}
	r, _ := e.request(rid)
	assert.Equal(t, 2, r.Count, "received twice")
	o, _ = e.order(rid)
	assert.Equal(t, int(paytree.StatusPaid), o.TransStatus, "still one order, still PAID")
	assert.Len(t, e.sim.Ledger().Orders, 1)

	vid, v := e.reverseByRequest(rid)
	ok(t, v, vid)
	assert.Equal(t, paytree.CodeOK, v.code())
	assert.Equal(t, "1200", v.get(paytree.FAmount))
	assert.Equal(t, o.OrderID, v.get(paytree.FOrderID))
	assert.Equal(t, paytree.StatusReversed.Wire(), v.get(paytree.FTransStatus))
	o, _ = e.order(rid)
	assert.Equal(t, int(paytree.StatusReversed), o.TransStatus)
	assert.Equal(t, int64(0), o.MoneyHeld())

	_, c := e.confirm(rid, false)
	require.Error(t, c.err, "still lost after the reverse")
	// The reverse itself can be confirmed.
	rc := e.confirmOK(vid, false)
	assert.Equal(t, "1200", rc.get(paytree.FAmount))
}

// TestPayV1AutoDetect checks the auto-detect prefixes and that the class
// override does not work on V1.
func TestPayV1AutoDetect(t *testing.T) {
	tests := []struct {
		userCode, wantCode, wantPayType string
	}{
		{"281234567890123456", paytree.CodeOK, "PAYPAY"},
		{"361234567890123456", paytree.CodeOK, "LINE"},
		{"311234567890123456", paytree.CodeOK, "RAKUTEN"},
		{"221234567890123456", paytree.CodeOK, "DPAY"},
		{"271234567890123456", paytree.CodeOK, "AUPAY"},
		{"291234567890123456", paytree.CodeOK, "MERPAY"},
		{"301234567890123456", paytree.E2001, ""},
		{"2", paytree.E2001, ""},
		{classCode(0), paytree.E2001, ""},
		{classCode(1), paytree.E2001, ""},
	}
	e := newEnv(t, nil)
	for _, tc := range tests {
		t.Run(tc.userCode, func(t *testing.T) {
			rid, a := e.payV1(tc.userCode, 300)
			ok(t, a, rid)
			assert.Equal(t, tc.wantCode, a.code(), "%v", a.fields)
			assert.Equal(t, tc.wantPayType, a.get(paytree.FPayType))
			_, held := e.order(rid)
			assert.Equal(t, tc.wantCode == paytree.CodeOK, held)
			if held {
				c := e.confirmOK(rid, true)
				assert.Equal(t, tc.wantPayType, c.get(paytree.FPayType))
				assert.Equal(t, paytree.StatusPaid.Wire(), c.get(paytree.FTransStatus))
			}
		})
	}
}

// TestPayV1UsesConfiguredClass: on V1 the class comes from the config.
func TestPayV1UsesConfiguredClass(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.Classes.Pay = 4 })
	rid, a := e.payV1("281234567890123456", 300)
	ok(t, a, rid)
	assert.Equal(t, paytree.E2002, a.code())
}

// TestOverrideCodes: 99…8 and 99…9 select no class; near-misses are plain
// user codes that use the configured class.
func TestOverrideCodes(t *testing.T) {
	tests := []struct{ userCode, want string }{
		{classCode(8), paytree.E2001},
		{classCode(9), paytree.E2001},
		{classCode(3), paytree.E2001},
		{overrideCodePrefix + "4", paytree.E2002},
		{"9900000000000000004", paytree.CodeOK},       // 19 chars: not an override
		{"990000000000000004", paytree.E2002},         // 18 chars with 15 zeros
		{"99000000000000100004"[:18], paytree.CodeOK}, // not all zeros
	}
	e := newEnv(t, nil)
	for _, tc := range tests {
		t.Run(tc.userCode, func(t *testing.T) {
			rid, a := e.pay("PAYPAY", tc.userCode, 100)
			ok(t, a, rid)
			assert.Equal(t, tc.want, a.code(), "%v", a.fields)
		})
	}
}

// TestSetClasses switches the configured classes at run time; a class out
// of range answers E2001.
func TestSetClasses(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetClasses(sim.Classes{Pay: 5})
	rid, a := e.pay("PAYPAY", "281111", 100)
	ok(t, a, rid)
	assert.Equal(t, paytree.E2003, a.code())
	e.sim.SetClasses(sim.Classes{Pay: 9})
	rid, a = e.pay("PAYPAY", "281111", 100)
	ok(t, a, rid)
	assert.Equal(t, paytree.E2001, a.code())
	e.sim.SetClasses(sim.Classes{})
	rid, a = e.pay("PAYPAY", "281111", 100)
	ok(t, a, rid)
	assert.Equal(t, paytree.CodeOK, a.code())
}

// TestPayContextCancelBeforeSend: a request whose context is already done
// never reaches the simulator.
func TestPayContextCancelBeforeSend(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rid := e.id()
	a := e.postCtx(ctx, paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 100))
	require.Error(t, a.err)
	_, held := e.request(rid)
	assert.False(t, held)
}
