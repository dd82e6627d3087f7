package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShipKeys(t *testing.T) {
	ok := []struct {
		name  string
		lines []string
		check func(t *testing.T, c *Config)
	}{
		{"off by default", nil, func(t *testing.T, c *Config) {
			assert.Empty(t, c.ShipURL)
			assert.Equal(t, DefaultShipStream, c.ShipStream)
		}},
		{"one server", []string{"ShipURL = nats://127.0.0.1:4222"}, func(t *testing.T, c *Config) {
			assert.Equal(t, "nats://127.0.0.1:4222", c.ShipURL)
		}},
		{"tls with files", []string{"ShipURL = tls://a.example:4222, tls://b.example:4222", "ShipCAFile = ca.pem",
			"ShipCertFile = c.pem", "ShipKeyFile = k.pem", "ShipCredentialsFile = t.creds", "ShipStream = CHAIN_1"},
			func(t *testing.T, c *Config) {
				assert.Equal(t, "ca.pem", c.ShipCAFile)
				assert.Equal(t, "t.creds", c.ShipCredentialsFile)
				assert.Equal(t, "CHAIN_1", c.ShipStream)
			}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseLines(append(append([]string(nil), baseLines...), tc.lines...))
			require.NoError(t, err)
			tc.check(t, c)
		})
	}

	bad := []struct {
		name    string
		lines   []string
		key     string
		message string
	}{
		{"http scheme", []string{"ShipURL = http://hq.example:4222"}, "ShipURL", "nats://host:port or tls://host:port"},
		{"no host", []string{"ShipURL = nats://:4222"}, "ShipURL", "must name a host"},
		{"user info", []string{"ShipURL = nats://u:p@hq.example:4222"}, "ShipURL", "ShipCredentialsFile"},
		{"path", []string{"ShipURL = nats://hq.example:4222/x"}, "ShipURL", "path"},
		{"empty list item", []string{"ShipURL = nats://a:1,,nats://b:2"}, "ShipURL", "empty server"},
		{"CA without URL", []string{"ShipCAFile = ca.pem"}, "ShipCAFile", "ShipURL is empty"},
		{"creds without URL", []string{"ShipCredentialsFile = t.creds"}, "ShipCredentialsFile", "ShipURL is empty"},
		{"cert without key", []string{"ShipURL = tls://a:1", "ShipCertFile = c.pem"}, "ShipKeyFile", "required with ShipCertFile"},
		{"key without cert", []string{"ShipURL = tls://a:1", "ShipKeyFile = k.pem"}, "ShipCertFile", "required with ShipKeyFile"},
		{"bad stream", []string{"ShipStream = a.b"}, "ShipStream", "letters, digits"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseLines(append(append([]string(nil), baseLines...), tc.lines...))
			require.ErrorIs(t, err, ErrInvalid)
			ps := problems(t, err)
			require.Len(t, ps, 1, "%v", err)
			assert.Equal(t, tc.key, ps[0].Key)
			assert.Contains(t, ps[0].Message, tc.message)
			if tc.key == "ShipCertFile" || tc.key == "ShipKeyFile" {
				return // the missing one has no line
			}
			assert.Equal(t, len(baseLines)+len(tc.lines), ps[0].Line, "line of the last added key")
		})
	}
}
