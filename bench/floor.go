package bench

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// floorRecordBytes is the size of each record the floor commits: about what
// one journaled transition of a pay takes (entry and snapshot).
const floorRecordBytes = 300

// Paths of the floor server.
const (
	floorPayPath  = "/floor/pay"
	floorEchoPath = "/floor/echo"
)

// floorServer is the least a gateway does for a pay: verify the request's
// signature and sign an answer. No ledger, no validation, no logging.
type floorServer struct {
	clientPub *rsa.PublicKey
	key       *rsa.PrivateKey
}

func (s *floorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, paytree.MaxBodyBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == floorEchoPath { // the bare round trip: no crypto at all
		_, _ = w.Write(body)
		return
	}
	req, err := paytree.Decode(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := keys.Verify(s.clientPub, []byte(paytree.Canonical(req)), req[paytree.FSign]); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	ans := paytree.Fields{
		paytree.FResultCode:   paytree.CodeOK,
		paytree.FRequestID:    req[paytree.FRequestID],
		paytree.FResponseTime: paytree.FormatTime(time.Now()),
		paytree.FOrderID:      "0123456789abcdef0123456789abcdef",
		paytree.FPayType:      req[paytree.FPayType],
		paytree.FAmount:       req[paytree.FAmount],
		paytree.FTransStatus:  paytree.StatusPaid.Wire(),
		paytree.FTransTime:    paytree.FormatTime(time.Now()),
		paytree.FSignType:     paytree.SignTypeRSA,
	}
	sig, err := keys.Sign(s.key, []byte(paytree.Canonical(ans)))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ans[paytree.FSign] = sig
	out, err := paytree.Encode(ans)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(out)
}

// floor is the bare minimum of a durable signed pay: commit a record (bbolt
// Update, fsync'd), sign the request, one HTTPS round trip over a kept-alive
// loopback connection (the server verifies and signs), verify the answer,
// commit a second record. No state machine, no logging.
type floor struct {
	k      Keys
	db     *bolt.DB
	srv    interface{ Close() }
	url    string
	client *http.Client
	seq    uint64
	record []byte
}

var floorBucket = []byte("floor")

// newFloor opens the floor's bbolt file at dbPath and starts its server.
func newFloor(k Keys, dbPath string) (*floor, error) {
	db, err := bolt.Open(dbPath, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("floor database: %w", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(floorBucket); return err }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("floor database: %w", err)
	}
	srv := startTLS(&floorServer{clientPub: &k.Client.PublicKey, key: k.Gateway})
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	// The same transport settings as package transport: HTTP/1.1, TLS 1.2+,
	// no compression, connections kept alive.
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableCompression:  true,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
	}
	rec := bytes.Repeat([]byte("wbpay-floor-record "), floorRecordBytes/19+1)[:floorRecordBytes]
	return &floor{k: k, db: db, srv: srv, url: srv.URL, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, record: rec}, nil
}

func (f *floor) close() error {
	f.client.CloseIdleConnections()
	f.srv.Close()
	return f.db.Close()
}

// commit writes one record of floorRecordBytes in its own bbolt Update.
func (f *floor) commit() error {
	f.seq++
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], f.seq)
	return f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(floorBucket)
		b.FillPercent = 0.9
		return b.Put(key[:], f.record)
	})
}

// request builds a pay request as the engine would send it, unsigned.
func floorRequest(i int) paytree.Fields {
	def := config.Default()
	return paytree.Fields{
		paytree.FMerchantID: merchantID, paytree.FTerminalUniqueID: terminalUniqueID,
		paytree.FBranchCode: branchCode, paytree.FTerminalCode: terminalCode,
		paytree.FLocale: def.Locale, paytree.FTimeZone: def.TimeZone, paytree.FCurrencyCode: def.CurrencyCode,
		paytree.FAppVersion: def.AppVersion,
		paytree.FRequestID:  fmt.Sprintf("%032x", i+1), paytree.FRequestTime: paytree.FormatTime(time.Now()),
		paytree.FPayType: paytree.PayPay.Code(), paytree.FAmount: strconv.Itoa(1000 + i%1000),
		paytree.FUserCode: historyCode, paytree.FSignType: paytree.SignTypeRSA,
	}
}

// exchange signs req, posts it to path and verifies the signed answer.
func (f *floor) exchange(ctx context.Context, req paytree.Fields) error {
	sig, err := keys.Sign(f.k.Client, []byte(paytree.Canonical(req)))
	if err != nil {
		return err
	}
	req[paytree.FSign] = sig
	body, err := paytree.Encode(req)
	if err != nil {
		return err
	}
	raw, err := f.post(ctx, floorPayPath, body)
	if err != nil {
		return err
	}
	ans, err := paytree.Decode(raw)
	if err != nil {
		return fmt.Errorf("floor answer: %w", err)
	}
	if err := keys.Verify(&f.k.Gateway.PublicKey, []byte(paytree.Canonical(ans)), ans[paytree.FSign]); err != nil {
		return fmt.Errorf("floor answer: %w", err)
	}
	if ans[paytree.FRequestID] != req[paytree.FRequestID] {
		return fmt.Errorf("floor answer: requestId %q, want %q", ans[paytree.FRequestID], req[paytree.FRequestID])
	}
	return nil
}

// post sends body and returns the answer's body (HTTP 200 only).
func (f *floor) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, paytree.MaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("floor server: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	return raw, nil
}

// stages collects, when not nil, how long each step of the floor's pays
// took inside the loop.
type stages struct {
	commit, exchange Sample
}

// pay is one iteration of the floor: commit, sign, round trip (server
// verifies and signs), verify, commit. With st set, it records each step.
func (f *floor) pay(ctx context.Context, i int, st *stages) error {
	t0 := time.Now()
	if err := f.commit(); err != nil {
		return fmt.Errorf("floor commit: %w", err)
	}
	t1 := time.Now()
	if err := f.exchange(ctx, floorRequest(i)); err != nil {
		return fmt.Errorf("floor exchange: %w", err)
	}
	t2 := time.Now()
	if err := f.commit(); err != nil {
		return fmt.Errorf("floor commit: %w", err)
	}
	if st != nil {
		st.commit.Add(t1.Sub(t0))
		st.exchange.Add(t2.Sub(t1))
		st.commit.Add(time.Since(t2))
	}
	return nil
}

// Parts are the floor's components. Sign, Verify, Commit and RoundTrip are
// each the median of its own loop: one RSA-2048 SHA1 signature, one
// verification, one bbolt Update of floorRecordBytes, one bare HTTPS round
// trip. LoopCommit and LoopExchange are the medians of the floor's own steps
// inside its pays: a commit, and an exchange (sign, round trip with the
// server's verify and sign, verify), which costs more than its parts alone
// (the server's goroutine, caches). Append is one journal.Append of a pay's
// transition, to compare with Commit.
type Parts struct {
	Sign, Verify, Commit, RoundTrip time.Duration
	LoopCommit, LoopExchange        time.Duration
	Append                          time.Duration
}

// measureParts times each component n times and keeps the medians.
func (f *floor) measureParts(ctx context.Context, n int) (Parts, error) {
	var p Parts
	msg := []byte(paytree.Canonical(floorRequest(0)))
	sig, err := keys.Sign(f.k.Client, msg)
	if err != nil {
		return p, err
	}
	echo := bytes.Repeat([]byte("x"), 700) // about a signed pay request's size
	for _, m := range []struct {
		into *time.Duration
		fn   func() error
	}{
		{&p.Sign, func() error { _, err := keys.Sign(f.k.Client, msg); return err }},
		{&p.Verify, func() error { return keys.Verify(&f.k.Client.PublicKey, msg, sig) }},
		{&p.Commit, f.commit},
		{&p.RoundTrip, func() error { _, err := f.post(ctx, floorEchoPath, echo); return err }},
	} {
		var s Sample
		for range n {
			start := time.Now()
			if err := m.fn(); err != nil {
				return p, err
			}
			s.Add(time.Since(start))
		}
		*m.into = s.Quantile(0.5)
	}
	return p, nil
}
