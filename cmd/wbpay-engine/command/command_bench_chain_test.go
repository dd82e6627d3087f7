package command

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBenchChainNeedsServers(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--chain"},
		{"bench", "--chain", "--nats", "nats://127.0.0.1:1"},
		{"bench", "--chain", "--nats", "nats://127.0.0.1:1", "--db", "postgres://x", "--chain-entries", "1"},
	} {
		var out, errb bytes.Buffer
		code := Execute(args, strings.NewReader(""), &out, &errb)
		assert.Equal(t, ExitUsage, code, "%v: %s", args, errb.String())
		assert.Contains(t, errb.String(), "--chain")
	}
}
