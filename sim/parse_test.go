package sim_test

import (
	"crypto/rsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		spec string
		want []sim.Fault
	}{
		{"", nil},
		{"  ", nil},
		{"lost:pay:count=1", []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpPay, Count: 1}}},
		{"500-after:refund:p=0.3", []sim.Fault{{Kind: sim.Fault500After, Op: paytree.OpRefund, Probability: 0.3}}},
		{"processing:pay:settle=5s:fail", []sim.Fault{{Kind: sim.FaultProcessing, Op: paytree.OpPay, Settle: 5 * time.Second, SettleFail: true}}},
		{"delay-before:any:delay=2s", []sim.Fault{{Kind: sim.FaultDelayBefore, Delay: 2 * time.Second}}},
		{"hold:confirm:delay=1m:p=1:count=2", []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpConfirm, Delay: time.Minute, Probability: 1, Count: 2}}},
		{"E9001:Deposit, bad-sign:reverse ,extra-field:*", []sim.Fault{
			{Kind: sim.FaultE9001, Op: paytree.OpDeposit},
			{Kind: sim.FaultBadSign, Op: paytree.OpReverse},
			{Kind: sim.FaultExtraField},
		}},
		{"e9002:any,500-before:pay,delay-after:refund:delay=10ms", []sim.Fault{
			{Kind: sim.FaultE9002},
			{Kind: sim.Fault500Before, Op: paytree.OpPay},
			{Kind: sim.FaultDelayAfter, Op: paytree.OpRefund, Delay: 10 * time.Millisecond},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := sim.ParseFaults(tc.spec)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			for _, f := range got { // String writes the same syntax back
				again, err := sim.ParseFaults(f.String())
				require.NoError(t, err, f.String())
				assert.Equal(t, []sim.Fault{f}, again)
			}
		})
	}
}

func TestParseFaultsErrors(t *testing.T) {
	tests := []struct{ spec, item, why string }{
		{"lost", `item 1 "lost"`, "KIND:OP"},
		{"lost:pay,flaky:pay", `item 2 "flaky:pay"`, "unknown kind"},
		{"lost:payment", `item 1`, "unknown operation"},
		{"lost:pay:p=2", `item 1`, "p=2"},
		{"lost:pay:p=0", `item 1`, "p=0"},
		{"lost:pay:p=x", `item 1`, "p=x"},
		{"lost:pay:count=0", `item 1`, "count=0"},
		{"lost:pay:count=-1", `item 1`, "count=-1"},
		{"lost:pay:count", `item 1`, "needs a value"},
		{"lost:pay:count=1:count=2", `item 1`, "twice"},
		{"delay-before:pay", `item 1`, "needs a delay"},
		{"delay-after:pay:delay=soon", `item 1`, "delay=soon"},
		{"lost:pay:delay=1s", `item 1`, "delay applies"},
		{"lost:pay:settle=1s", `item 1`, "settle and fail apply"},
		{"e9001:pay:fail", `item 1`, "settle and fail apply"},
		{"processing:pay:fail=yes", `item 1`, "no value"},
		{"processing:refund", `item 1`, "pay and deposit only"},
		{"lost:pay:colour=red", `item 1`, "unknown option"},
		{"lost:pay,,", `item 2 ""`, "KIND:OP"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := sim.ParseFaults(tc.spec)
			require.Error(t, err)
			assert.True(t, errors.Is(err, sim.ErrFaultSpec))
			assert.Contains(t, err.Error(), tc.item)
			assert.Contains(t, err.Error(), tc.why)
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	gw, client, _ := testKeys(t)
	good := func() sim.Config { return sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey} }
	small := &rsa.PublicKey{N: new(big.Int).Rsh(client.N, 1100), E: client.E} // fewer than 2048 bits
	tests := []struct {
		name string
		mod  func(*sim.Config)
		want string
	}{
		{"no private key", func(c *sim.Config) { c.PrivateKey = nil }, "PrivateKey"},
		{"no client key", func(c *sim.Config) { c.ClientPublicKey = nil }, "ClientPublicKey"},
		{"short client key", func(c *sim.Config) { c.ClientPublicKey = small }, "ClientPublicKey has"},
		{"negative approve", func(c *sim.Config) { c.ApproveAfter = -time.Second }, "ApproveAfter"},
		{"negative window", func(c *sim.Config) { c.ReverseWindow = -1 }, "ReverseWindow"},
		{"negative delay", func(c *sim.Config) { c.Delay = -1 }, "Delay"},
		{"pay class 8", func(c *sim.Config) { c.Classes.Pay = 8 }, "pay class"},
		{"refund class 2", func(c *sim.Config) { c.Classes.Refund = 2 }, "refund class"},
		{"reverse class 1", func(c *sim.Config) { c.Classes.Reverse = 1 }, "reverse class"},
		{"deposit class 1", func(c *sim.Config) { c.Classes.Deposit = 1 }, "deposit class"},
		{"bad path", func(c *sim.Config) { c.Paths.Refund = "api/refund" }, "Paths.Refund"},
		{"same path twice", func(c *sim.Config) { c.Paths.Refund = "/api/v3/pay" }, "used twice"},
		{"ledger path", func(c *sim.Config) { c.Paths.Deposit = sim.LedgerPath }, "Paths.Deposit"},
		{"bad fault", func(c *sim.Config) { c.Faults = []sim.Fault{{Kind: sim.FaultLost, Probability: 1.5}} }, "Faults[0]"},
		{"fault op", func(c *sim.Config) { c.Faults = []sim.Fault{{Kind: sim.FaultLost, Op: 42}} }, "operation"},
		{"bad merchant", func(c *sim.Config) { c.Merchants = []string{"12"} }, "Merchants"},
		{"bad terminal", func(c *sim.Config) { c.Terminals = []string{"ABCDE1123456T"} }, "Terminals"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.mod(&cfg)
			_, err := sim.New(cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, sim.ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	s, err := sim.New(good())
	require.NoError(t, err, "defaults")
	assert.Empty(t, s.Ledger().Orders)
}
