package command

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1000", 1000},
		{"1000.9", 1000},
		{"1000.0", 1000},
		{"1", 1},
		{"1.99", 1},
		{"007", 7},
		{"999999999999999", 999_999_999_999_999},
		{"999999999999999.5", 999_999_999_999_999},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseAmount(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"", "0", "0.9", "-1", "+1", "1e3", "1,000", "1 000", "1000.", ".5", "abc", "1.2.3",
		"1000000000000000", "１０００", "0x10", "NaN"} {
		t.Run("refuses "+bad, func(t *testing.T) {
			_, err := parseAmount(bad)
			assert.Error(t, err)
		})
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1000", "1000.9", "0", "-1", "1e3", "999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseAmount(s)
		if err == nil && (v < 1 || v > maxAmount) {
			t.Fatalf("parseAmount(%q) = %d, outside 1..%d", s, v, int64(maxAmount))
		}
	})
}

func TestParseTime(t *testing.T) {
	since, err := parseTime("2026-11-25", false)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 25, 0, 0, 0, 0, paytree.JST), since)
	until, err := parseTime("2026-11-25", true)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 26, 0, 0, 0, 0, paytree.JST), until, "a date as --until includes the whole day")
	exact, err := parseTime("2026-11-25T09:30:00+09:00", true)
	require.NoError(t, err)
	assert.True(t, exact.Equal(time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)))
	for _, bad := range []string{"", "25/11/2026", "2026-13-01", "yesterday"} {
		_, err := parseTime(bad, false)
		assert.Error(t, err, bad)
	}
}

func TestParseStateAndChannel(t *testing.T) {
	st, err := parseState("Escalated")
	require.NoError(t, err)
	assert.Equal(t, fsm.StateEscalated, st)
	_, err = parseState("new")
	assert.Error(t, err, "new is never stored")
	_, err = parseState("done")
	assert.ErrorContains(t, err, "want one of")

	c, err := parseChannel("paypay", true)
	require.NoError(t, err)
	assert.Equal(t, paytree.PayPay, c)
	c, err = parseChannel("auto", true)
	require.NoError(t, err)
	assert.Equal(t, paytree.AutoDetect, c)
	_, err = parseChannel("auto", false)
	assert.Error(t, err)
	_, err = parseChannel("JCB_ALIPAY", true)
	assert.ErrorContains(t, err, "cannot be requested")
	_, err = parseChannel("VISA", true)
	assert.ErrorContains(t, err, "not a channel")
}
