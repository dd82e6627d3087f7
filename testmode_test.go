package wbpay_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// testModeHome writes a test-mode home (no gateway, no public key) with the
// extra keys given.
func testModeHome(t *testing.T, extra map[string]string) string {
	t.Helper()
	home := t.TempDir()
	writeKeys(t, home)
	writeConf(t, home, testgw.Merge(testgw.TestModeConf(), testgw.Merge(map[string]string{
		"RequestConfirmInterval": "0", "LogLevel": "Transaction",
	}, extra)))
	return home
}

func openAt(t *testing.T, home string, clock clockwork.Clock, opts ...wbpay.Option) *wbpay.Engine {
	t.Helper()
	eng, err := wbpay.Open(context.Background(), append([]wbpay.Option{wbpay.WithHome(home), wbpay.WithClock(clock)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// TestTestModeClasses: AppTestMode routes every request to the in-process
// simulator, with the TestClass keys of the configuration.
func TestTestModeClasses(t *testing.T) {
	cases := []struct {
		name  string
		conf  map[string]string
		run   func(*wbpay.Engine) (*wbpay.Result, error)
		state fsm.State
		code  string
	}{
		{"TestClassPay 0", map[string]string{"TestClassPay": "0"}, payOf("281234567890"), fsm.StatePaid, ""},
		{"TestClassPay 3", map[string]string{"TestClassPay": "3"}, payOf("281234567890"), fsm.StateFailed, paytree.E2001},
		{"TestClassPay 4", map[string]string{"TestClassPay": "4"}, payOf("281234567890"), fsm.StateFailed, paytree.E2002},
		{"TestClassPay 5", map[string]string{"TestClassPay": "5"}, payOf("281234567890"), fsm.StateFailed, paytree.E2003},
		{"TestClassPay 2", map[string]string{"TestClassPay": "2"}, payOf("281234567890"), fsm.StateReversed, paytree.N0002},
		{"TestClassDeposit 0", nil, func(e *wbpay.Engine) (*wbpay.Result, error) {
			return e.DepositSync(context.Background(), &wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 300, UserCode: "36123"})
		}, fsm.StateDeposited, ""},
		{"auto-detect on the V1 path", nil, func(e *wbpay.Engine) (*wbpay.Result, error) {
			return e.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.AutoDetect, Amount: 300, UserCode: "311234567"})
		}, fsm.StatePaid, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var simulator *sim.Sim
			eng := openAt(t, testModeHome(t, tc.conf), clockwork.NewRealClock(), wbpay.WithTestSimulator(func(s *sim.Sim) { simulator = s }))
			require.NotNil(t, simulator, "test mode has an in-process simulator")
			res, err := tc.run(eng)
			require.NoError(t, err)
			assert.Equal(t, tc.state, res.State)
			assert.Equal(t, tc.code, errCode(res.Err()))
			if tc.name == "auto-detect on the V1 path" {
				assert.Equal(t, wbpay.RakutenPay, res.PayType, "the channel the gateway detected")
			}
		})
	}
}

func payOf(code string) func(*wbpay.Engine) (*wbpay.Result, error) {
	return func(e *wbpay.Engine) (*wbpay.Result, error) {
		return e.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: code})
	}
}

func errCode(e *wbpay.Error) string {
	if e == nil {
		return ""
	}
	return e.Code
}

// TestTestModeRefundAndReverse: the order history lives as long as the
// engine; refunds and reverses work on the orders it holds.
func TestTestModeRefundAndReverse(t *testing.T) {
	eng := openAt(t, testModeHome(t, map[string]string{"TestClassRefund": "1"}), clockwork.NewRealClock())
	p, err := payOf("281234567890")(eng)
	require.NoError(t, err)
	r, err := eng.RefundSync(context.Background(), &wbpay.RefundRequest{OrderID: p.OrderID, RefundAmount: 400})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateRefunded, r.State, "refund class 1 loses the first answer; the confirm settles it")
	assert.Equal(t, paytree.StatusPartiallyRefunded, r.TransStatus)
	v, err := eng.ReverseSync(context.Background(), &wbpay.ReverseRequest{OrderID: "PT00000000000000000000000000000X"})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateFailed, v.State, "an order the simulator never issued cannot be reversed")
	assert.Equal(t, paytree.E3001, errCode(v.Err()))
}

// TestTestSequenceDelay: the simulator answers only after TestSequenceDelay
// of the engine's clock has passed.
func TestTestSequenceDelay(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC))
	eng := openAt(t, testModeHome(t, map[string]string{"TestSequenceDelay": "5"}), clock)
	done := make(chan *wbpay.Result, 1)
	go func() {
		res, _ := payOf("281234567890")(eng)
		done <- res
	}()
	require.NoError(t, clock.BlockUntilContext(context.Background(), 1), "the pay waits on the clock")
	select {
	case <-done:
		t.Fatal("answered before TestSequenceDelay passed")
	default:
	}
	clock.Advance(5 * time.Second)
	select {
	case res := <-done:
		assert.Equal(t, fsm.StatePaid, res.State)
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after TestSequenceDelay passed")
	}
}

// TestLogFiles: one file per JST day, Sequence and Transaction lines, the
// userCode masked and no key material.
func TestLogFiles(t *testing.T) {
	const userCode = "281234567890123456"
	// 16:00 UTC is already the next day in JST.
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC))
	home := testModeHome(t, map[string]string{"TestSequenceDelay": "0"})
	eng := openAt(t, home, clock)
	_, err := payOf(userCode)(eng)
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	data, err := os.ReadFile(filepath.Join(layout.Home(home).Log(), "WbCPSPay.20261126.log"))
	require.NoError(t, err, "the log file is named by the JST date")
	log := string(data)
	assert.Contains(t, log, "engine opened")
	assert.Contains(t, log, "exchange", "Sequence level logs each request and answer")
	assert.NotContains(t, log, userCode, "the full userCode never reaches the log")
	assert.Contains(t, log, "28************3456")
	assert.NotContains(t, log, "PRIVATE KEY")
	pemBody, err := os.ReadFile(filepath.Join(home, layout.ClientKeyFile))
	require.NoError(t, err)
	line := strings.Split(string(pemBody), "\n")[1]
	assert.NotContains(t, log, line, "key material never reaches the log")
}

// TestLogLevelError: at LogLevel Error nothing below Error is written.
func TestLogLevelError(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC))
	home := testModeHome(t, map[string]string{"TestSequenceDelay": "0", "LogLevel": "Error", "TestClassPay": "4"})
	eng := openAt(t, home, clock)
	_, err := payOf("281234567890")(eng)
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	data, err := os.ReadFile(filepath.Join(layout.Home(home).Log(), "WbCPSPay.20261125.log"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "E2002", "the error event is logged at Error level")
	assert.NotContains(t, string(data), "exchange", "Sequence lines are not written at Error level")
}
