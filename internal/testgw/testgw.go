// Package testgw is test support shared by the engine's, the CLI's, the
// recovery and the bench tests: one pair of RSA keys per process (key
// generation is the slowest part of a test), a home's WbCPSPay.conf, the
// simulator served over loopback TLS with its certificate on disk, and a
// "time-lapse" that moves a fake clock quickly so second-long waits take
// milliseconds. Nothing here is used by production code.
package testgw

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/sim"
)

// File names of the keys in a test home.
const (
	ClientKeyFile  = layout.ClientKeyFile
	GatewayKeyFile = layout.GatewayPubFile
)

var (
	keysOnce         sync.Once
	clientKey, gwKey *rsa.PrivateKey
	keysErr          error
)

// Keys returns the client's and the gateway's keys, generated once per
// process and never stored.
func Keys() (client, gateway *rsa.PrivateKey) {
	keysOnce.Do(func() {
		if clientKey, keysErr = keys.NewKey(); keysErr == nil {
			gwKey, keysErr = keys.NewKey()
		}
	})
	if keysErr != nil {
		panic(fmt.Sprintf("testgw: generate keys: %v", keysErr))
	}
	return clientKey, gwKey
}

// identity is the merchant and terminal every test home uses.
func identity() map[string]string {
	return map[string]string{
		"PrivateKeyFile":  ClientKeyFile,
		"MerchantId":      "123456789012",
		"TerminalUniquId": "1234501234561",
		"BranchCode":      "B001",
		"TerminalCode":    "T01",
	}
}

// LiveConf returns the configuration of a home talking to the gateway at
// serverURL with the contract's paths.
func LiveConf(serverURL string) map[string]string {
	kv := identity()
	for k, v := range map[string]string{
		"ServerURL":              serverURL,
		"ApiPathPay":             "/api/v3/pay",
		"ApiPathPayV1":           "/api/v1/pay",
		"ApiPathRefund":          "/api/v3/refund",
		"ApiPathReverse":         "/api/v3/reverse",
		"ApiPathConfirm":         "/api/v3/confirm",
		"ApiPathConfirmV1":       "/api/v1/confirm",
		"ApiPathDeposit":         "/api/v3/deposit",
		"PublicKeyFile":          GatewayKeyFile,
		"RequestConfirmInterval": "1",
		"RequestConfirmNum":      "1",
	} {
		kv[k] = v
	}
	return kv
}

// TestModeConf returns the configuration of a test-mode home whose
// in-process simulator answers at once.
func TestModeConf() map[string]string {
	kv := identity()
	kv["AppTestMode"] = "yes"
	kv["TestSequenceDelay"] = "0"
	return kv
}

// Merge returns base with over applied; an empty value in over removes the key.
func Merge(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// WriteConf writes kv as home's WbCPSPay.conf, in key order.
func WriteConf(home string, kv map[string]string) error {
	return config.Write(home, config.Conf{Header: "written by a test", Values: kv}, false)
}

// WriteKeys writes the client's private key and the gateway's public key
// into home.
func WriteKeys(home string) error {
	client, gw := Keys()
	if err := layout.Write(home, ClientKeyFile, keys.EncodePrivatePEM(client), false); err != nil {
		return err
	}
	return layout.Write(home, GatewayKeyFile, keys.EncodePublicPEM(&gw.PublicKey), false)
}

// Gateway is a simulator served over loopback TLS.
type Gateway struct {
	Sim    *sim.Sim
	Server *httptest.Server
	CAFile string         // PEM of the server's certificate (for --gateway-ca)
	Pool   *x509.CertPool // the same, for wbpay.WithRootCAs
}

// StartGateway serves a simulator made from cfg (its keys default to Keys())
// on 127.0.0.1 over TLS, writing the certificate to dir/gateway-ca.pem.
func StartGateway(cfg sim.Config, dir string) (*Gateway, error) {
	client, gw := Keys()
	if cfg.PrivateKey == nil {
		cfg.PrivateKey = gw
	}
	if cfg.ClientPublicKey == nil {
		cfg.ClientPublicKey = &client.PublicKey
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewTLSServer(s)
	g := &Gateway{Sim: s, Server: srv, CAFile: filepath.Join(dir, layout.GatewayCAFile), Pool: x509.NewCertPool()}
	g.Pool.AddCert(srv.Certificate())
	if err := layout.Write(dir, layout.GatewayCAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), false); err != nil {
		srv.Close()
		return nil, err
	}
	return g, nil
}

// URL is the gateway's base URL (ServerURL).
func (g *Gateway) URL() string { return g.Server.URL }

// Close stops the server.
func (g *Gateway) Close() { g.Server.Close() }

// TimeLapse advances c by step every real millisecond until stop is called,
// so the engine's and the simulator's second-long waits pass in
// milliseconds without any test sleeping.
func TimeLapse(c *clockwork.FakeClock, step time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				c.Advance(step)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

var (
	engineOnce sync.Once
	enginePath string
	engineErr  error
)

// EngineBinary builds cmd/wbpay-engine with the crash points compiled in
// (inert unless armed) once per test process and returns its path; tests
// that run the CLI or the daemon as a child call it.
func EngineBinary() (string, error) {
	engineOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wbpay-engine-bin-")
		if err != nil {
			engineErr = err
			return
		}
		enginePath = filepath.Join(dir, "wbpay-engine")
		// go test puts its own GOROOT/bin first in the PATH of the tests.
		goBin, err := exec.LookPath("go")
		if err != nil {
			engineErr = err
			return
		}
		cmd := exec.Command(goBin, "build", "-tags", "crashpoints", "-o", enginePath, "github.com/wbpay/wbpay/cmd/wbpay-engine")
		cmd.Stderr = os.Stderr
		engineErr = cmd.Run()
	})
	return enginePath, engineErr
}

// RemoveEngineBinary deletes what EngineBinary built (a TestMain calls it
// after m.Run).
func RemoveEngineBinary() {
	if enginePath != "" {
		_ = os.RemoveAll(filepath.Dir(enginePath))
	}
}
