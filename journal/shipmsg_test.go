package journal

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validRecord(t testing.TB) []byte {
	t.Helper()
	r := ShipRecord{V: ShipVersion, MerchantID: "123456789012", Terminal: "1234501234561", Seq: 2,
		Hash: strings.Repeat("ab", 32), PrevHash: strings.Repeat("cd", 32), Body: []byte{1, 2, 3}, ShippedAt: time.Unix(0, 0).UTC()}
	b, err := json.Marshal(&r)
	require.NoError(t, err)
	return b
}

func TestDecodeShipRecord(t *testing.T) {
	ok := validRecord(t)
	r, err := DecodeShipRecord(ok)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), r.Seq)
	assert.Equal(t, []byte{1, 2, 3}, r.Body)

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(ok, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not json", []byte("{"), "bad ship record"},
		{"other version", edit(func(m map[string]any) { m["v"] = 2 }), "version 2"},
		{"no terminal", edit(func(m map[string]any) { delete(m, "terminal") }), "no terminal"},
		{"seq 0", edit(func(m map[string]any) { m["seq"] = 0 }), "seq 0"},
		{"short hash", edit(func(m map[string]any) { m["hash"] = "abcd" }), "hash"},
		{"upper-case hash", edit(func(m map[string]any) { m["hash"] = strings.Repeat("AB", 32) }), "hash"},
		{"prev hash on seq 1", edit(func(m map[string]any) { m["seq"] = 1 }), "prev hash"},
		{"no prev hash on seq 2", edit(func(m map[string]any) { m["prevHash"] = "" }), "prev hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeShipRecord(tc.data)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestShipTxnOfMasks(t *testing.T) {
	assert.Nil(t, ShipTxnOf(nil, 1))
	s := &Txn{ID: "x", UserCodeMasked: "281234567890123456", UserCodeHash: HashUserCode("281234567890123456"),
		LastError: &ErrorInfo{Code: "E2001"}, Request: map[string]string{"userCode": "281234567890123456"}}
	got := ShipTxnOf(s, 9)
	assert.Equal(t, MaskUserCode("281234567890123456"), got.UserCodeMasked, "a full code in the snapshot is masked on the way out")
	assert.Equal(t, uint64(9), got.Seq)
	assert.Equal(t, "E2001", got.ErrorCode)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "281234567890123456")
	assert.NotContains(t, string(b), s.UserCodeHash, "no userCode hash is shipped")
}

func TestShipSubjectAndMsgID(t *testing.T) {
	assert.Equal(t, "wbpay.journal.123456789012.1234501234561", ShipSubject("123456789012", "1234501234561"))
	assert.Equal(t, "1234501234561/42", ShipMsgID("1234501234561", 42))
}

func FuzzDecodeShipRecord(f *testing.F) {
	f.Add(validRecord(f))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeShipRecord(data)
		if err != nil {
			return
		}
		if r.Seq == 0 || len(r.Hash) != 64 || r.Terminal == "" {
			t.Fatalf("accepted a bad record: %+v", r)
		}
		_, _ = DecodeBody(r.Body) // never panics
		_ = EntryHash(r.PrevHash, r.Seq, r.Body)
	})
}
