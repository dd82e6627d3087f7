package transport

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidatesOptions(t *testing.T) {
	testKeys(t)
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string // substring; "" = accepted
	}{
		{name: "https", edit: func(o *Options) { o.BaseURL = "https://gateway.example:8443" }},
		{name: "https with prefix", edit: func(o *Options) { o.BaseURL = "https://gateway.example/paytree/" }},
		{name: "http to 127.0.0.1", edit: func(o *Options) { o.BaseURL = "http://127.0.0.1:8080" }},
		{name: "http to 127.1.2.3", edit: func(o *Options) { o.BaseURL = "http://127.1.2.3:8080" }},
		{name: "http to localhost", edit: func(o *Options) { o.BaseURL = "http://localhost:8080" }},
		{name: "http to ::1", edit: func(o *Options) { o.BaseURL = "http://[::1]:8080" }},
		{name: "http to a remote host", edit: func(o *Options) { o.BaseURL = "http://gateway.example" }, wantErr: "plain http is allowed only to a loopback host"},
		{name: "http to a private address", edit: func(o *Options) { o.BaseURL = "http://192.0.2.10:80" }, wantErr: "plain http is allowed only to a loopback host"},
		{name: "http to a name ending in localhost", edit: func(o *Options) { o.BaseURL = "http://evil-localhost.example" }, wantErr: "loopback"},
		{name: "empty URL", edit: func(o *Options) { o.BaseURL = "" }, wantErr: "BaseURL is required"},
		{name: "other scheme", edit: func(o *Options) { o.BaseURL = "ftp://gateway.example" }, wantErr: "scheme must be https"},
		{name: "no host", edit: func(o *Options) { o.BaseURL = "https:///api" }, wantErr: "has no host"},
		{name: "user info", edit: func(o *Options) { o.BaseURL = "https://u:p@gateway.example" }, wantErr: "user info"},
		{name: "query", edit: func(o *Options) { o.BaseURL = "https://gateway.example/?a=b" }, wantErr: "query"},
		{name: "unparseable", edit: func(o *Options) { o.BaseURL = "https://gate way/%zz" }, wantErr: "BaseURL"},
		{name: "no private key", edit: func(o *Options) { o.PrivateKey = nil }, wantErr: "PrivateKey is required"},
		{name: "no gateway key", edit: func(o *Options) { o.GatewayKey = nil }, wantErr: "GatewayKey is required"},
		{name: "short private key", edit: func(o *Options) { o.PrivateKey = short }, wantErr: "PrivateKey has 1024 bits"},
		{name: "short gateway key", edit: func(o *Options) { o.GatewayKey = &short.PublicKey }, wantErr: "GatewayKey has 1024 bits"},
		{name: "negative timeout", edit: func(o *Options) { o.Timeout = -time.Second }, wantErr: "Timeout"},
		{name: "negative wait", edit: func(o *Options) { o.RetryWaitMin = -1 }, wantErr: "must not be negative"},
		{name: "max wait below min", edit: func(o *Options) { o.RetryWaitMin, o.RetryWaitMax = time.Second, time.Millisecond }, wantErr: "below RetryWaitMin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOptions(t, "https://gateway.example")
			tt.edit(&o)
			c, err := New(o)
			if tt.wantErr == "" {
				require.NoError(t, err)
				c.Close()
				return
			}
			require.ErrorIs(t, err, ErrOptions)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, c)
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	testKeys(t)
	c, err := New(Options{BaseURL: "https://gateway.example/", PrivateKey: clientKey, GatewayKey: &gatewayKey.PublicKey})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "https://gateway.example", c.base)
	assert.Equal(t, DefaultTimeout, c.timeout)
	assert.Equal(t, DefaultRetryMax, c.http.RetryMax)
	assert.Equal(t, DefaultRetryWaitMin, c.waitMin)
	assert.Equal(t, DefaultRetryWaitMax, c.waitMax)
	assert.NotNil(t, c.clock)
	assert.NotNil(t, c.log)
	assert.True(t, c.ownTransport)

	c2, err := New(Options{BaseURL: "https://gateway.example", PrivateKey: clientKey, GatewayKey: &gatewayKey.PublicKey, RetryMax: -1})
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, 0, c2.http.RetryMax, "negative RetryMax disables retries")
}
