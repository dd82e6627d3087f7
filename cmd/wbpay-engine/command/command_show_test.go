package command

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShowTimeline(t *testing.T) {
	f := newAuditFixture(t)

	r := f.run("show", f.declined)
	require.Equal(t, ExitOK, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "pay "+f.declined+": failed\n"), r.stdout)
	assert.Contains(t, r.stdout, "last error  E2002")
	assert.Contains(t, r.stdout, "what to do  ask the customer")
	assert.Regexp(t, `(?m)^\s+\d+\s.*\ssend\s+new -> sending\s+pay\s+`+f.declined, r.stdout)
	assert.Regexp(t, `(?m)^\s+\d+\s.*\sfail\s+sending -> failed\s+pay\s+`+f.declined+`\s+200\s+E2002\s+Customer`, r.stdout)

	r = f.run("show", f.paid, "-o", "json")
	require.Equal(t, ExitOK, r.code)
	var tl timelineJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tl))
	assert.Equal(t, f.paid, tl.TransactionID)
	assert.Equal(t, "paid", tl.State)
	require.Len(t, tl.Entries, 2)
	assert.Equal(t, entryJSON{Seq: tl.Entries[0].Seq, Time: tl.Entries[0].Time, Event: "send", From: "new", To: "sending",
		RequestID: f.paid, Kind: "pay", Hash: tl.Entries[0].Hash}, tl.Entries[0])
	assert.Equal(t, "paid", tl.Entries[1].Event)
	assert.Equal(t, "200", tl.Entries[1].HTTP)
	assert.Equal(t, "0000", tl.Entries[1].ResultCode)
	assert.Len(t, tl.Entries[1].Hash, 64)
}

func TestShowByOrderID(t *testing.T) {
	f := newAuditFixture(t)
	r := f.run("show", f.order, "-o", "json")
	require.Equal(t, ExitOK, r.code)
	var tls []timelineJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tls))
	require.Len(t, tls, 2, "the pay and its refund")
	assert.Equal(t, f.paid, tls[0].TransactionID)
	assert.Equal(t, f.refund, tls[1].TransactionID)

	r = f.run("show", f.order)
	require.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, "pay "+f.paid+": paid")
	assert.Contains(t, r.stdout, "refund "+f.refund+": refunded")
}

func TestShowUnknownID(t *testing.T) {
	f := newAuditFixture(t)
	r := f.run("show", "0123456789abcdef0123456789abcdef")
	assert.Equal(t, ExitLibrary, r.code)
	assert.Contains(t, r.stderr, `no transaction or order "0123456789abcdef0123456789abcdef"`)
	assert.Empty(t, r.stdout)

	e := newTestMode(t, nil)
	r = e.run("show", "0123456789abcdef0123456789abcdef")
	assert.Equal(t, ExitLibrary, r.code, "no journal yet: unknown too")
	assert.Contains(t, r.stderr, "not found")
}
