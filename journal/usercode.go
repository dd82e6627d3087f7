package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// MaskUserCode returns code with all but its first 2 and last 4 characters
// replaced by '*'. A code of 6 characters or fewer keeps only its first 2,
// and one of 2 or fewer is all '*', so that no code is ever shown whole.
// "" stays "".
func MaskUserCode(code string) string {
	n := utf8.RuneCountInString(code)
	keepHead, keepTail := 2, 4
	switch {
	case n <= 2:
		keepHead, keepTail = 0, 0
	case n <= 6:
		keepTail = 0
	}
	var b strings.Builder
	b.Grow(len(code))
	i := 0
	for _, r := range code {
		if i < keepHead || i >= n-keepTail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// HashUserCode returns the hex SHA-256 of code: the unkeyed scheme of
// journals written before keyed hashes, kept so that MatchUserCode can
// still match their entries. The engine stores HashUserCodeKeyed instead:
// an unkeyed hash of a code that fits its mask is found by trying every
// candidate. "" for "".
func HashUserCode(code string) string {
	if code == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// UserCodeKeySize is the size of a home's userCode key (HMAC-SHA256).
const UserCodeKeySize = 32

// keyedScheme is the first byte, as two hex digits, of a keyed userCode
// hash: "01" + the 64 hex digits of HMAC-SHA256(key, code). An unkeyed
// hash (HashUserCode, journals before keyed hashes) is 64 hex digits
// without a prefix, so the length tells the two apart.
const keyedScheme = "01"

// HashUserCodeKeyed returns the keyed hash of code that the engine stores
// in Txn.UserCodeHash: "01" followed by the hex HMAC-SHA256 of code under
// key (the home's userCode key). Without the key, the journal does not let
// anyone test a guessed code against it. "" for "".
func HashUserCodeKeyed(key []byte, code string) string {
	if code == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return keyedScheme + hex.EncodeToString(m.Sum(nil))
}

// MatchUserCode reports whether stored (a Txn.UserCodeHash) is the hash of
// code: keyed (HashUserCodeKeyed under key) or, for entries written before
// keyed hashes, unkeyed (HashUserCode). It compares in constant time.
func MatchUserCode(stored string, key []byte, code string) bool {
	var want string
	switch {
	case code == "" || stored == "":
		return false
	case len(stored) == 2+2*sha256.Size && stored[:2] == keyedScheme:
		want = HashUserCodeKeyed(key, code)
	case len(stored) == 2*sha256.Size:
		want = HashUserCode(code)
	default:
		return false
	}
	return hmac.Equal([]byte(stored), []byte(want))
}
