package paytree_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wbpay/wbpay/paytree"
)

func fields(kv ...string) paytree.Fields {
	f := paytree.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return f
}

const (
	rc = paytree.FResultCode
	tc = paytree.FTargetResultCode
	ts = paytree.FTransStatus
)

// classifyCase is one answer and its expected judgement.
type classifyCase struct {
	name string
	op   paytree.Operation
	f    paytree.Fields
	want paytree.Judgement
}

// TestClassifyAnswer pins the verdict of every kind of answer to a
// request's own send (or resend).
func TestClassifyAnswer(t *testing.T) {
	tests := []classifyCase{
		{"pay PAID", paytree.OpPay, fields(rc, "0000", ts, "1"), paytree.Judgement{Verdict: paytree.VerdictDone, Keep: true}},
		{"pay WAITING", paytree.OpPay, fields(rc, "0000", ts, "2"), paytree.Judgement{Verdict: paytree.VerdictWaiting, Keep: true}},
		{"pay PROCESSING", paytree.OpPay, fields(rc, "0000", ts, "3"), paytree.Judgement{Verdict: paytree.VerdictUnknown, Keep: true,
			Reason: paytree.Reason{Code: paytree.N0002, Message: "outcome unknown: the gateway answered PROCESSING (transStatus 3): the channel had not settled it yet"}}},
		{"pay FAILED", paytree.OpPay, fields(rc, "0000", ts, "4"), paytree.Judgement{Verdict: paytree.VerdictFailed, Keep: true,
			Reason: paytree.Reason{Code: paytree.E2006, Detail: "transStatus FAILED"}}},
		{"pay CANCELLED", paytree.OpPay, fields(rc, "0000", ts, "5"), paytree.Judgement{Verdict: paytree.VerdictFailed, Keep: true,
			Reason: paytree.Reason{Code: paytree.E2004, Detail: "transStatus CANCELLED"}}},
		{"pay EXPIRED", paytree.OpPay, fields(rc, "0000", ts, "6"), paytree.Judgement{Verdict: paytree.VerdictFailed, Keep: true,
			Reason: paytree.Reason{Code: paytree.E2005, Detail: "transStatus EXPIRED"}}},
		{"pay REVERSED", paytree.OpPay, fields(rc, "0000", ts, "7"), paytree.Judgement{Verdict: paytree.VerdictFailed, Keep: true,
			Reason: paytree.Reason{Code: paytree.E3004, Detail: "transStatus REVERSED"}}},
		{"deposit DEPOSITED", paytree.OpDeposit, fields(rc, "0000", ts, "10"), paytree.Judgement{Verdict: paytree.VerdictDone, Keep: true}},
		{"deposit WAITING is no deposit status", paytree.OpDeposit, fields(rc, "0000", ts, "2"), paytree.Judgement{Verdict: paytree.VerdictUnknown, Keep: true,
			Reason: paytree.Reason{Code: paytree.N0004, Detail: `unexpected transStatus "2" for a deposit`}}},
		{"pay transStatus not a status", paytree.OpPay, fields(rc, "0000", ts, "x"), paytree.Judgement{Verdict: paytree.VerdictUnknown, Keep: true,
			Reason: paytree.Reason{Code: paytree.N0004, Detail: `transStatus "x" is not a status`}}},
		{"refund done (transStatus is its order's)", paytree.OpRefund, fields(rc, "0000", ts, "9"), paytree.Judgement{Verdict: paytree.VerdictDone, Keep: true}},
		{"E9001: outcome unknown", paytree.OpRefund, fields(rc, "E9001", paytree.FErrorSubCode, "S1", paytree.FErrorMessage, "internal"),
			paytree.Judgement{Verdict: paytree.VerdictUnknown, Reason: paytree.Reason{Code: "E9001", SubCode: "S1", Gateway: "internal"}}},
		{"E9002: not processed", paytree.OpPay, fields(rc, "E9002"), paytree.Judgement{Verdict: paytree.VerdictNotProcessed, Reason: paytree.Reason{Code: "E9002"}}},
		{"E1002: not processed", paytree.OpReverse, fields(rc, "E1002"), paytree.Judgement{Verdict: paytree.VerdictNotProcessed, Reason: paytree.Reason{Code: "E1002"}}},
		{"refused", paytree.OpPay, fields(rc, "E2001", paytree.FErrorMessage, "no such channel"),
			paytree.Judgement{Verdict: paytree.VerdictFailed, Reason: paytree.Reason{Code: "E2001", Gateway: "no such channel"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, paytree.ClassifyAnswer(tt.op, tt.f))
		})
	}
}

// TestClassifyConfirm pins the verdict of a confirm's answer.
func TestClassifyConfirm(t *testing.T) {
	tests := []classifyCase{
		{"target PAID", paytree.OpPay, fields(rc, "0000", tc, "0000", ts, "1"), paytree.Judgement{Verdict: paytree.VerdictDone, Keep: true}},
		{"no targetResultCode: processed", paytree.OpPay, fields(rc, "0000", ts, "2"), paytree.Judgement{Verdict: paytree.VerdictWaiting, Keep: true}},
		{"target never received", paytree.OpPay, fields(rc, "E3001"), paytree.Judgement{Verdict: paytree.VerdictNotFound, Reason: paytree.Reason{Code: "E3001"}}},
		{"the confirm itself refused: ask again", paytree.OpRefund, fields(rc, "E9002"), paytree.Judgement{Verdict: paytree.VerdictUnknown, Reason: paytree.Reason{Code: "E9002"}}},
		{"target E9001 without an order: unknown", paytree.OpRefund, fields(rc, "0000", tc, "E9001"), paytree.Judgement{Verdict: paytree.VerdictUnknown, Reason: paytree.Reason{Code: "E9001"}}},
		{"target E9001 with an order: its status", paytree.OpPay, fields(rc, "0000", tc, "E9001", ts, "3"), paytree.Judgement{Verdict: paytree.VerdictUnknown, Keep: true,
			Reason: paytree.Reason{Code: paytree.N0002, Message: "outcome unknown: the gateway answered PROCESSING (transStatus 3): the channel had not settled it yet"}}},
		{"target refused, order kept", paytree.OpPay, fields(rc, "0000", tc, "E2004", ts, "5"), paytree.Judgement{Verdict: paytree.VerdictFailed, Keep: true, Reason: paytree.Reason{Code: "E2004"}}},
		{"target refused, no order", paytree.OpRefund, fields(rc, "0000", tc, "E3002"), paytree.Judgement{Verdict: paytree.VerdictFailed, Reason: paytree.Reason{Code: "E3002"}}},
		{"refund processed", paytree.OpRefund, fields(rc, "0000", tc, "0000", ts, "8"), paytree.Judgement{Verdict: paytree.VerdictDone, Keep: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, paytree.ClassifyConfirm(tt.op, tt.f))
		})
	}
}

// TestClassifyReverse pins the verdicts of the reverse that undoes a pay
// and of its confirm.
func TestClassifyReverse(t *testing.T) {
	for _, tt := range []struct {
		f             paytree.Fields
		send, confirm paytree.Verdict
	}{
		{fields(rc, "0000"), paytree.VerdictDone, paytree.VerdictDone},
		{fields(rc, "0000", tc, "0000"), paytree.VerdictDone, paytree.VerdictDone},
		{fields(rc, "0000", tc, "E9001"), paytree.VerdictDone, paytree.VerdictUnknown},
		{fields(rc, "0000", tc, "E3003"), paytree.VerdictDone, paytree.VerdictFailed},
		{fields(rc, "E9001"), paytree.VerdictUnknown, paytree.VerdictUnknown},
		{fields(rc, "E9002"), paytree.VerdictUnknown, paytree.VerdictUnknown},
		{fields(rc, "E3003"), paytree.VerdictFailed, paytree.VerdictUnknown},
		{fields(rc, "E3001"), paytree.VerdictFailed, paytree.VerdictNotFound},
	} {
		assert.Equal(t, tt.send, paytree.ClassifyReverse(tt.f), "reverse %v", tt.f)
		assert.Equal(t, tt.confirm, paytree.ClassifyReverseConfirm(tt.f), "confirm of the reverse %v", tt.f)
	}
}

func TestVerdictNames(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range paytree.AllVerdicts() {
		assert.NotContains(t, v.String(), "Verdict(", "%d has a name", int(v))
		assert.NotEmpty(t, v.Describe())
		assert.False(t, seen[v.String()], "%s named twice", v)
		seen[v.String()] = true
	}
	assert.Equal(t, "Verdict(99)", paytree.Verdict(99).String())
}
