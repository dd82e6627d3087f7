//go:build linux

package pgserver

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), Options{})
	if errors.Is(err, ErrMissing) {
		t.Skip(err)
	}
	require.NoError(t, err)
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port))
	require.NoError(t, err, "postgres listens on its port")
	c.Close()
	assert.Contains(t, s.DSN, "127.0.0.1:"+strconv.Itoa(s.Port))
	s.Stop()
	_, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port))
	assert.Error(t, err, "nothing listens after Stop")
}
