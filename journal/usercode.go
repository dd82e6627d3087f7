package journal

import (
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

// HashUserCode returns the hex SHA-256 of code, by which a transaction can
// be found from the code without storing it; "" for "".
func HashUserCode(code string) string {
	if code == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}
