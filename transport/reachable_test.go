package transport

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReachable: a listening gateway is reachable and receives nothing but
// a connection; a port nothing listens on is not (ErrNotSent, naming it);
// the proxy the environment names is what is probed; with a RoundTripper
// there is nothing to probe.
func TestReachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 64)
		n, _ := c.Read(b) // returns when the probe closes its end
		accepted <- b[:n]
	}()
	up := newClient(t, baseOptions(t, "https://"+ln.Addr().String()))
	require.NoError(t, up.Reachable(context.Background()))
	assert.Empty(t, <-accepted, "the probe sends no byte")

	require.NoError(t, ln.Close())
	down := newClient(t, baseOptions(t, "https://"+ln.Addr().String()))
	err = down.Reachable(context.Background())
	require.ErrorIs(t, err, ErrNotSent)
	assert.Contains(t, err.Error(), ln.Addr().String())

	// Through a proxy: the proxy's address is probed (here: nothing listens).
	viaProxy := newClient(t, baseOptions(t, "https://gateway.invalid"))
	viaProxy.proxy = func(*http.Request) (*url.URL, error) { return url.Parse("http://" + ln.Addr().String()) }
	err = viaProxy.Reachable(context.Background())
	require.ErrorIs(t, err, ErrNotSent)
	assert.Contains(t, err.Error(), ln.Addr().String(), "the proxy, not the gateway's name, is dialled")

	o := baseOptions(t, "https://gateway.invalid")
	o.RoundTripper = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, net.ErrClosed })
	assert.NoError(t, newClient(t, o).Reachable(context.Background()), "no network to probe")
}
