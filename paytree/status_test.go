package paytree

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransStatus(t *testing.T) {
	tests := []struct {
		s    TransStatus
		name string
		held bool
	}{
		{StatusPaid, "PAID", true},
		{StatusWaiting, "WAITING", false},
		{StatusProcessing, "PROCESSING", false},
		{StatusFailed, "FAILED", false},
		{StatusCancelled, "CANCELLED", false},
		{StatusExpired, "EXPIRED", false},
		{StatusReversed, "REVERSED", false},
		{StatusRefunded, "REFUNDED", false},
		{StatusPartiallyRefunded, "PARTIALLY_REFUNDED", true},
		{StatusDeposited, "DEPOSITED", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, TransStatus(i+1), tt.s, "wire value %d", i+1)
			assert.Equal(t, tt.name, tt.s.String())
			assert.True(t, tt.s.Valid())
			assert.Equal(t, strconv.Itoa(i+1), tt.s.Wire())
			back, ok := ParseTransStatus(tt.s.Wire())
			assert.True(t, ok)
			assert.Equal(t, tt.s, back)
			assert.Equal(t, tt.held, tt.s.MoneyHeld())
		})
	}
	for _, v := range []string{"", "0", "11", "01", "1a", "-1", "+1", " 1", "100", "２"} {
		_, ok := ParseTransStatus(v)
		assert.False(t, ok, "ParseTransStatus(%q)", v)
	}
	assert.False(t, TransStatus(0).Valid())
	assert.Equal(t, "TransStatus(11)", TransStatus(11).String())
}

func TestOperation(t *testing.T) {
	want := map[Operation]string{OpPay: "pay", OpRefund: "refund", OpReverse: "reverse", OpConfirm: "confirm", OpDeposit: "deposit", OpClose: "close"}
	for op, name := range want {
		assert.Equal(t, name, op.String())
		back, ok := ParseOperation(name)
		assert.True(t, ok)
		assert.Equal(t, op, back)
	}
	_, ok := ParseOperation("Pay")
	assert.False(t, ok, "names are lower case")
	_, ok = ParseOperation("charge")
	assert.False(t, ok)
	assert.Equal(t, "Operation(0)", Operation(0).String())
}

func TestValidators(t *testing.T) {
	t.Run("request id", func(t *testing.T) {
		for _, s := range []string{"a", "0192f3a4b5c67d8e9f0a1b2c3d4e5f60", "A_b-9", string(make32('x'))} {
			assert.True(t, ValidRequestID(s), s)
		}
		for _, s := range []string{"", string(make32('x')) + "x", "a b", "a.b", "日本", "a/b", "a\n"} {
			assert.False(t, ValidRequestID(s), s)
		}
	})
	t.Run("amount", func(t *testing.T) {
		for _, s := range []string{"1", "1000", "999999999999999"} {
			assert.True(t, ValidAmount(s), s)
		}
		for _, s := range []string{"", "0", "01", "-1", "+1", "1.0", "1e3", "1000000000000000", " 1", "１"} {
			assert.False(t, ValidAmount(s), s)
		}
	})
	t.Run("alnum", func(t *testing.T) {
		assert.True(t, IsAlnum("aZ09"))
		for _, s := range []string{"", "a_b", "a-b", "é", " "} {
			assert.False(t, IsAlnum(s), s)
		}
	})
}

func make32(c byte) []byte {
	b := make([]byte, MaxRequestIDLength)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestTimeJST(t *testing.T) {
	utc := time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC)
	assert.Equal(t, "20261126003000", FormatTime(utc), "UTC+9 whatever the host zone")
	ny := utc.In(time.FixedZone("EST", -5*3600))
	assert.Equal(t, "20261126003000", FormatTime(ny))
	back, err := ParseTime("20261126003000")
	require.NoError(t, err)
	assert.True(t, back.Equal(utc))
	_, offset := back.Zone()
	assert.Equal(t, 9*3600, offset)
	for _, bad := range []string{"", "2026112600300", "20261326003000", "2026-11-26 00:30"} {
		_, err := ParseTime(bad)
		assert.Error(t, err, bad)
	}
}
