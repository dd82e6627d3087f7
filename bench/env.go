package bench

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/sim"
)

// CAFile holds the PEM certificate of the loopback gateway in a benchmark
// home, so that a child process can trust it.
const CAFile = layout.GatewayCAFile

// Terminal identity written into every benchmark home (the simulator checks
// formats only).
const (
	merchantID       = "123456789012"
	terminalUniqueID = "1234501234561"
	branchCode       = "B001"
	terminalCode     = "T01"
)

// Keys are the two RSA-2048 key pairs of a run: the engine's (client) and
// the gateway's. They are generated per run and never stored outside the
// run's temporary homes.
type Keys struct {
	Client, Gateway *rsa.PrivateKey
}

// NewKeys generates a fresh pair of keys.
func NewKeys() (Keys, error) {
	c, err := keys.NewKey()
	if err != nil {
		return Keys{}, fmt.Errorf("client key: %w", err)
	}
	g, err := keys.NewKey()
	if err != nil {
		return Keys{}, fmt.Errorf("gateway key: %w", err)
	}
	return Keys{Client: c, Gateway: g}, nil
}

// gateway is the simulator served over loopback HTTPS (httptest's TLS
// server), as a real gateway would be reached.
type gateway struct {
	sim *sim.Sim
	srv *httptest.Server
}

// startTLS serves h over HTTPS on 127.0.0.1 with the standard library's
// test certificate; the server's own error log is discarded.
func startTLS(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return srv
}

// newGateway starts a simulator (class 0: every pay PAID at once) on
// loopback HTTPS.
func newGateway(k Keys) (*gateway, error) {
	s, err := sim.New(sim.Config{PrivateKey: k.Gateway, ClientPublicKey: &k.Client.PublicKey, Seed: 1})
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return &gateway{sim: s, srv: startTLS(s)}, nil
}

func (g *gateway) close() { g.srv.Close() }

// pool trusts the gateway's certificate.
func (g *gateway) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(g.srv.Certificate())
	return p
}

// caPEM is the gateway's certificate as PEM.
func (g *gateway) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.srv.Certificate().Raw})
}

// homeConf is the WbCPSPay.conf of a benchmark home talking to serverURL,
// logging at Sequence level (the level the spec recommends), with
// overrides applied ("" deletes a key).
func homeConf(serverURL string, overrides map[string]string) config.Conf {
	paths := sim.DefaultPaths()
	kv := map[string]string{
		"ServerURL":              serverURL,
		"ApiPathPay":             paths.Pay,
		"ApiPathPayV1":           paths.PayV1,
		"ApiPathRefund":          paths.Refund,
		"ApiPathReverse":         paths.Reverse,
		"ApiPathConfirm":         paths.Confirm,
		"ApiPathConfirmV1":       paths.ConfirmV1,
		"ApiPathDeposit":         paths.Deposit,
		"PrivateKeyFile":         layout.ClientKeyFile,
		"PublicKeyFile":          layout.GatewayPubFile,
		"MerchantId":             merchantID,
		"TerminalUniquId":        terminalUniqueID,
		"BranchCode":             branchCode,
		"TerminalCode":           terminalCode,
		"HttpTimeout":            "15",
		"RequestConfirmInterval": "1",
		"RequestConfirmNum":      "1",
		"LogLevel":               "Sequence",
	}
	for k, v := range overrides {
		kv[k] = v
	}
	return config.Conf{Header: "written by wbpay-engine bench (throwaway keys, loopback simulator)", Values: kv}
}

// writeHome makes dir an engine home: keys, WbCPSPay.conf for serverURL,
// and the gateway's CA certificate when caPEM is not nil.
func writeHome(dir string, k Keys, serverURL string, caPEM []byte, overrides map[string]string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string][]byte{
		layout.ClientKeyFile:  keys.EncodePrivatePEM(k.Client),
		layout.GatewayPubFile: keys.EncodePublicPEM(&k.Gateway.PublicKey),
	}
	if caPEM != nil {
		files[CAFile] = caPEM
	}
	for name, data := range files {
		if err := layout.Write(dir, name, data, false); err != nil {
			return fmt.Errorf("write home: %w", err)
		}
	}
	if err := config.Write(dir, homeConf(serverURL, overrides), false); err != nil {
		return fmt.Errorf("write home: %w", err)
	}
	return nil
}

// loadCA reads a PEM certificate bundle into a pool.
func loadCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gateway certificate: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("gateway certificate %s: no PEM certificate", path)
	}
	return p, nil
}

// copyFile copies src to dst (created, or truncated) and fsyncs it, so that
// the disk is quiet again before anything is timed on the copy.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}
