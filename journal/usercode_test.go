package journal

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestMaskUserCode(t *testing.T) {
	tests := []struct{ code, want string }{
		{"281234567890123456", "28************3456"},
		{"1234567", "12*4567"},
		{"123456", "12****"},
		{"123", "12*"},
		{"12", "**"},
		{"1", "*"},
		{"", ""},
		{"ＱＲ12345678", "ＱＲ****5678"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			got := MaskUserCode(tc.code)
			assert.Equal(t, tc.want, got)
			if tc.code != "" {
				assert.NotEqual(t, tc.code, got, "never the whole code")
			}
		})
	}
}

func TestHashUserCode(t *testing.T) {
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashUserCode("abc"))
	assert.Equal(t, "", HashUserCode(""))
	assert.NotEqual(t, HashUserCode("281234567890123456"), HashUserCode("281234567890123457"))
}

// TestUserCodeNeverInFile greps the raw journal file for the customer's code.
func TestUserCodeNeverInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openAt(t, path)
	b := newPay(t, j, 1, t0)
	// A careless caller leaves the code in the request fields.
	req := map[string]string{paytree.FAmount: "1000", paytree.FUserCode: testCode}
	b.snap.Request = req
	b.send()
	b.must(fsm.EvLost, fsm.StateUnknown, Entry{HTTP: "timeout"}, nil)
	b.must(fsm.EvConfirm, fsm.StateConfirming, Entry{Kind: "confirm"}, nil)
	b.paid()
	assert.Equal(t, testCode, req[paytree.FUserCode], "the caller's map is not modified")
	got, err := j.Get(b.snap.ID)
	require.NoError(t, err)
	assert.NotContains(t, got.Request, paytree.FUserCode)
	assert.Equal(t, "1000", got.Request[paytree.FAmount])
	require.NoError(t, j.Close())

	raw := fileBytes(t, path)
	assert.False(t, bytes.Contains(raw, []byte(testCode)), "the full userCode is in the file")
	assert.True(t, bytes.Contains(raw, []byte(MaskUserCode(testCode))), "the masked code is (so the grep looked at the snapshot)")
	hash, err := hex.DecodeString(HashUserCode(testCode))
	require.NoError(t, err)
	assert.True(t, bytes.Contains(raw, hash), "and its hash (stored as the 32 bytes its hex spells)")
}

func TestHashUserCodeKeyed(t *testing.T) {
	key := make([]byte, UserCodeKeySize)
	key[0] = 1
	h := HashUserCodeKeyed(key, testCode)
	assert.Len(t, h, 66)
	assert.Equal(t, "01", h[:2], "the scheme byte")
	assert.NotContains(t, h, HashUserCode(testCode))
	assert.NotEqual(t, h, HashUserCodeKeyed(make([]byte, UserCodeKeySize), testCode), "another key, another hash")
	assert.Empty(t, HashUserCodeKeyed(key, ""))

	tests := []struct {
		name   string
		stored string
		code   string
		want   bool
	}{
		{"keyed, right code", h, testCode, true},
		{"keyed, other code", h, testCode + "1", false},
		{"unkeyed (old entry), right code", HashUserCode(testCode), testCode, true},
		{"unkeyed (old entry), other code", HashUserCode(testCode), "2812", false},
		{"empty stored", "", testCode, false},
		{"empty code", h, "", false},
		{"unknown scheme", "02" + h[2:], testCode, false},
		{"garbage", "xyz", testCode, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, MatchUserCode(tc.stored, key, tc.code))
		})
	}
}
