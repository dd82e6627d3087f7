package command

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// demoChildEnv is set in the environment of the process the demo kills, so
// a test binary standing in for wbpay-engine knows to run the CLI.
const demoChildEnv = "WBPAY_DEMO_CHILD"

// Demo files and timings: the engine's waits are set to their one-second
// minimum so the whole demo takes a few seconds.
const (
	demoGatewayPub  = layout.GatewayPubFile
	demoGatewayCA   = layout.GatewayCAFile
	demoHTTPTimeout = 5 * time.Second
	demoApprove     = time.Second
)

func init() { verbs = append(verbs, newDemoCommand) }

func newDemoCommand(g *globals) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo [--keep]",
		Short: "Run every scenario against a local simulator, crash included (no setup needed)",
		Long: `demo needs no setup at all. It creates a throwaway home with fresh keys,
starts the PAYTREE simulator on loopback HTTPS (a self-signed certificate made
for the run, which the engine trusts through --gateway-ca: certificate checks
stay on), and narrates, step by step, what the engine does with:

  a plain pay; a pay that waits for the customer's passcode and completes by
  polling; a pay whose answer is lost (confirmed, then reversed); a declined
  pay (insufficient balance); a partial and a full refund; a reverse; a
  deposit; a crash in the middle of a pay (the wbpay-engine process is killed
  while the gateway holds the answer) and the recovery that finishes it;
  then the history and the verdict of verify on the journal.

Each step runs the real wbpay-engine verb. The demo checks every outcome
against the narration and against the simulator's ledger, and exits 1 when
one differs (it is also a smoke test in CI). The home is removed at the end
unless --keep is given (then the journal stays there for history, show,
export and verify; the simulator is gone).`,
		Example: `  go run ./cmd/wbpay-engine demo
  wbpay-engine demo --keep`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.demo(cmd.Context(), keep)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the demo's home (journal, logs, keys) and print its path")
	return cmd
}

// demo is one run of the demo.
type demo struct {
	g     *globals
	w     io.Writer
	home  string
	ca    string
	sim   *sim.Sim
	url   string
	start time.Time
	step  int
}

func (g *globals) demo(ctx context.Context, keep bool) (err error) {
	d := &demo{g: g, w: g.stdout, start: time.Now()}
	home, err := os.MkdirTemp("", "wbpay-demo-")
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("demo home: %w", err))
	}
	d.home = home
	defer func() {
		switch {
		case keep:
			fmt.Fprintf(d.w, "\nThe demo home is kept at %s (try `wbpay-engine history --home %s`).\n", home, home)
		case err != nil:
			fmt.Fprintf(d.w, "\nThe demo home is kept at %s for inspection.\n", home)
		default:
			_ = os.RemoveAll(home)
		}
	}()
	stop, err := d.setUp()
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("demo set-up: %w", err))
	}
	defer stop()
	if err := d.scenarios(ctx); err != nil {
		fmt.Fprintf(d.w, "\nDEMO FAILED at step %d: %v\n", d.step, err)
		return silentExit(ExitLibrary)
	}
	fmt.Fprintf(d.w, "\nDemo finished in %.1fs: every step ended as narrated, and the journal verifies.\n", time.Since(d.start).Seconds())
	return nil
}

// setUp writes keys, the TLS certificate and the configuration, and starts
// the simulator on loopback HTTPS. stop shuts the simulator down.
func (d *demo) setUp() (stop func(), err error) {
	fmt.Fprintln(d.w, "wbpay demo: a throwaway home, fresh keys, and a PAYTREE simulator on loopback HTTPS.")
	client, err := generateKeyPair(filepath.Join(d.home, clientKeyFile), filepath.Join(d.home, clientPubFile))
	if err != nil {
		return nil, err
	}
	gw, err := keys.NewKey()
	if err != nil {
		return nil, err
	}
	if err := layout.Write(d.home, demoGatewayPub, keys.EncodePublicPEM(&gw.PublicKey), true); err != nil {
		return nil, err
	}
	cert, caPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	d.ca = filepath.Join(d.home, demoGatewayCA)
	if err := layout.Write(d.home, demoGatewayCA, caPEM, true); err != nil {
		return nil, err
	}
	s, err := sim.New(sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, ApproveAfter: demoApprove, Seed: 1})
	if err != nil {
		return nil, err
	}
	d.sim = s
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	d.url = "https://" + ln.Addr().String()
	if err := config.Write(d.home, demoConfig(d.url), true); err != nil {
		_ = srv.Close()
		return nil, err
	}
	fmt.Fprintf(d.w, "  home       %s\n  simulator  %s (its certificate: %s)\n", d.home, d.url, d.ca)
	fmt.Fprintf(d.w, "Every command below runs as `wbpay-engine VERB --home HOME --gateway-ca %s`.\n", demoGatewayCA)
	fmt.Fprintln(d.w, "The waits of the configuration are set to one second so the demo is quick.")
	return func() { _ = srv.Close() }, nil
}

// demoConfig is the demo home's WbCPSPay.conf.
func demoConfig(url string) config.Conf {
	return config.Conf{
		Header: "WbCPSPay.conf of a wbpay demo home (throwaway). See `wbpay-engine init` for\na commented template of every key.",
		Values: map[string]string{
			"ServerURL":                 url,
			"ApiPathPay":                config.DefaultApiPathPay,
			"ApiPathPayV1":              config.DefaultApiPathPayV1,
			"ApiPathRefund":             config.DefaultApiPathRefund,
			"ApiPathReverse":            config.DefaultApiPathReverse,
			"ApiPathConfirm":            config.DefaultApiPathConfirm,
			"ApiPathConfirmV1":          config.DefaultApiPathConfirmV1,
			"ApiPathDeposit":            config.DefaultApiPathDeposit,
			"HttpTimeout":               "15",
			"PrivateKeyFile":            clientKeyFile,
			"PublicKeyFile":             demoGatewayPub,
			"MerchantId":                "123456789012",
			"TerminalUniquId":           "1234501234561",
			"BranchCode":                "B001",
			"TerminalCode":              "T01",
			"PayConfirmPollingMode":     "yes",
			"PayConfirmPollingWait":     "1",
			"PayConfirmPollingInterval": "1",
			"PayConfirmPollingTimeout":  "30",
			"RequestConfirmInterval":    "1",
			"RequestConfirmNum":         "1",
			"LogLevel":                  "Sequence",
		},
		Notes: map[string]string{
			"HttpTimeout":           "the minimum; the demo passes a shorter one on the command line",
			"PayConfirmPollingMode": "the engine asks the gateway itself while the customer approves",
		},
	}
}

// selfSigned makes a loopback TLS certificate that is its own CA.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wbpay demo PAYTREE simulator"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// narrate starts a numbered step.
func (d *demo) narrate(title string, lines ...string) {
	d.step++
	fmt.Fprintf(d.w, "\n%d. %s\n", d.step, title)
	for _, l := range lines {
		fmt.Fprintln(d.w, "   "+l)
	}
}

// say writes a conclusion line of the current step.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.w, "   → "+format+"\n", args...)
}

// verb runs one wbpay-engine verb in this process against the demo home,
// shows its output indented, and checks its exit code. It returns the
// results the verb reported.
func (d *demo) verb(want int, args ...string) ([]*wbpay.Result, error) {
	fmt.Fprintf(d.w, "   $ wbpay-engine %s\n", shellJoin(args))
	out := &prefixWriter{w: d.w, prefix: "     "}
	var got []*wbpay.Result
	inner := &globals{stdin: strings.NewReader(""), stdout: out, stderr: out,
		terminal: func(any) bool { return false },
		onResult: func(r *wbpay.Result) { got = append(got, r) }}
	full := append(append([]string(nil), args...), "--home", d.home, "--gateway-ca", d.ca, "--http-timeout", demoHTTPTimeout.String())
	code := execute(inner, full)
	out.flush()
	if code != want {
		return got, fmt.Errorf("`wbpay-engine %s` exited %d, the narration promised %d", args[0], code, want)
	}
	return got, nil
}

// one runs a request verb and returns its single result, checking its
// final state.
func (d *demo) one(want int, state wbpay.State, args ...string) (*wbpay.Result, error) {
	res, err := d.verb(want, args...)
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("`wbpay-engine %s` reported %d results, want 1", args[0], len(res))
	}
	if res[0].State != state {
		return nil, fmt.Errorf("transaction %s ended %s, the narration promised %s", res[0].TransactionID, res[0].State, state)
	}
	return res[0], nil
}

// order returns the simulator's order of a pay or deposit transaction.
func (d *demo) order(txnID string) (sim.Order, error) {
	o, ok := d.sim.Ledger().OrderByRequestID(txnID)
	if !ok {
		return o, fmt.Errorf("the simulator has no order for transaction %s", txnID)
	}
	return o, nil
}

// holds checks what the simulator holds for a transaction's order.
func (d *demo) holds(txnID string, want int64, status paytree.TransStatus) error {
	o, err := d.order(txnID)
	if err != nil {
		return err
	}
	if o.MoneyHeld() != want || paytree.TransStatus(o.TransStatus) != status {
		return fmt.Errorf("the gateway holds %d yen in status %s for order %s; the journal says %d yen, %s",
			o.MoneyHeld(), paytree.TransStatus(o.TransStatus), o.OrderID, want, status)
	}
	return nil
}

func hasEvent(r *wbpay.Result, match func(wbpay.Event) bool) bool {
	for _, ev := range r.Events {
		if match(ev) {
			return true
		}
	}
	return false
}

func (d *demo) scenarios(ctx context.Context) error {
	d.narrate("A plain payment.",
		"The customer shows a PayPay code; the cashier charges 1,000 yen.")
	plain, err := d.one(ExitOK, wbpay.StatePaid, "pay", "--amount", "1000", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	if err != nil {
		return err
	}
	if err := d.holds(plain.TransactionID, 1000, paytree.StatusPaid); err != nil {
		return err
	}
	d.say("paid; the journal recorded `sending` before the request left, then `paid`. The gateway holds 1,000 yen.")

	d.narrate("A payment that waits for the customer's passcode.",
		"The gateway answers WAITING: the customer must approve on their phone.",
		"With PayConfirmPollingMode = yes the engine asks the gateway every second until they do.")
	waiting, err := d.one(ExitOK, wbpay.StatePaid, "pay", "--amount", "800", "--user-code", classCode(1), "--pay-type", "PAYPAY")
	if err != nil {
		return err
	}
	if !hasEvent(waiting, func(ev wbpay.Event) bool {
		return ev.Complete != nil && ev.Complete.TransStatus == paytree.StatusWaiting
	}) {
		return fmt.Errorf("pay %s never reported WAITING", waiting.TransactionID)
	}
	if err := d.holds(waiting.TransactionID, 800, paytree.StatusPaid); err != nil {
		return err
	}
	d.say("first a WAITING event, then PAID once the customer approved (simulated after %s).", demoApprove)

	d.narrate("A payment whose answer is lost.",
		"The gateway takes the money, but its answer never reaches the POS (nor the answers to confirms).",
		"The engine cannot know whether the customer was charged, so it asks (confirm), and when the",
		"outcome stays unknown it reverses the pay by its request id: nobody pays for goods not handed over.")
	lost, err := d.one(ExitRefused, wbpay.StateReversed, "pay", "--amount", "1200", "--user-code", classCode(2), "--pay-type", "PAYPAY")
	if err != nil {
		return err
	}
	if err := d.holds(lost.TransactionID, 0, paytree.StatusReversed); err != nil {
		return err
	}
	d.say("reversed: the gateway holds nothing for it. Exit code 3: nothing moved, the cashier may try again.")

	d.narrate("A declined payment.",
		"The customer's balance is too low (insufficient balance, E2002).")
	declined, err := d.one(ExitRefused, wbpay.StateFailed, "pay", "--amount", "30000", "--user-code", classCode(4), "--pay-type", "PAYPAY")
	if err != nil {
		return err
	}
	if e := declined.Err(); e == nil || e.Code != paytree.E2002 || e.Action != paytree.Customer {
		return fmt.Errorf("declined pay reported %v, want E2002 with action Customer", e)
	}
	if _, ok := d.sim.Ledger().OrderByRequestID(declined.TransactionID); ok {
		return fmt.Errorf("the gateway opened an order for the declined pay %s", declined.TransactionID)
	}
	d.say("failed with E2002; whom to call: the customer. Exit code 3.")

	d.narrate("A partial refund, then a full one.",
		"The customer of step 1 returns part of the goods (300 yen), then the rest (700 yen).")
	if _, err := d.one(ExitOK, wbpay.StateRefunded, "refund", "--order-id", plain.OrderID, "--amount", "300", "--reason", "returned goods"); err != nil {
		return err
	}
	if err := d.holds(plain.TransactionID, 700, paytree.StatusPartiallyRefunded); err != nil {
		return err
	}
	if _, err := d.one(ExitOK, wbpay.StateRefunded, "refund", "--order-id", plain.OrderID, "--amount", "700"); err != nil {
		return err
	}
	if err := d.holds(plain.TransactionID, 0, paytree.StatusRefunded); err != nil {
		return err
	}
	d.say("PARTIALLY_REFUNDED, then REFUNDED: the gateway holds nothing for order %s.", plain.OrderID)

	d.narrate("A reverse (取消).",
		"The customer of step 2 changes their mind at the till: the cashier cancels the whole order.")
	if _, err := d.one(ExitOK, wbpay.StateReversed, "reverse", "--order-id", waiting.OrderID); err != nil {
		return err
	}
	if err := d.holds(waiting.TransactionID, 0, paytree.StatusReversed); err != nil {
		return err
	}
	d.say("reversed: 800 yen returned.")

	d.narrate("A deposit (入金).",
		"A customer charges 5,000 yen in cash onto their LINE Pay wallet.")
	deposit, err := d.one(ExitOK, wbpay.StateDeposited, "deposit", "--amount", "5000", "--user-code", "3612345678901234", "--pay-type", "LINE")
	if err != nil {
		return err
	}
	if err := d.holds(deposit.TransactionID, 5000, paytree.StatusDeposited); err != nil {
		return err
	}
	d.say("deposited.")

	crashed, err := d.crash(ctx)
	if err != nil {
		return err
	}

	d.narrate("The audit trail.",
		"Every transaction, newest first, from the journal's indexes (opened read-only):")
	if _, err := d.verb(ExitOK, "history"); err != nil {
		return err
	}
	d.narrate("The journal's integrity.",
		"verify recomputes the whole hash chain and checks the indexes against the snapshots:")
	if _, err := d.verb(ExitOK, "verify"); err != nil {
		return err
	}

	const wantHeld = 5000 + 2500
	if held := d.sim.Ledger().MoneyHeld(); held != wantHeld {
		return fmt.Errorf("the gateway holds %d yen in all, the journal says %d", held, wantHeld)
	}
	fmt.Fprintf(d.w, "\nIn all the gateway holds %s: the deposit and the recovered pay %s — the rest was refunded,\nreversed or never taken, exactly as the journal says.\n",
		yen(wantHeld), crashed)
	return nil
}

// crash kills a wbpay-engine process in the middle of a pay, then lets
// recovery finish it.
func (d *demo) crash(ctx context.Context) (string, error) {
	d.narrate("A crash in the middle of a payment.",
		"A separate wbpay-engine process pays 2,500 yen. The gateway takes the money but holds its answer;",
		"while the POS waits, its process is killed (SIGKILL, like a power loss). The customer is charged,",
		"and the POS never learned it.")
	before := countOps(d.sim.Ledger(), paytree.OpPay)
	d.sim.SetFaults([]sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpPay, Count: 1}})
	defer d.sim.SetFaults(nil)
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	args := []string{"pay", "--amount", "2500", "--user-code", "281234567890123456", "--pay-type", "PAYPAY"}
	fmt.Fprintf(d.w, "   $ wbpay-engine %s &\n", shellJoin(args))
	child := exec.CommandContext(ctx, exe, append(args, "--home", d.home, "--gateway-ca", d.ca, "--http-timeout", "60s")...)
	child.Env = append(os.Environ(), demoChildEnv+"=1")
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		return "", fmt.Errorf("start the paying process: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	arrived := false
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !arrived {
		select {
		case err := <-exited:
			return "", fmt.Errorf("the paying process ended before the gateway saw its pay (%v): %s", err, strings.TrimSpace(out.String()))
		case <-deadline.C:
			_ = child.Process.Kill()
			<-exited
			return "", errors.New("the gateway never saw the pay of the paying process")
		case <-tick.C:
			arrived = countOps(d.sim.Ledger(), paytree.OpPay) > before
		}
	}
	fmt.Fprintf(d.w, "     (the gateway has processed the pay and holds its answer; process %d is killed now)\n", child.Process.Pid)
	if err := child.Process.Kill(); err != nil {
		return "", fmt.Errorf("kill the paying process: %w", err)
	}
	werr := <-exited
	fmt.Fprintf(d.w, "     %v\n", werr)
	ledger := d.sim.Ledger()
	var charged sim.Order
	for _, o := range ledger.Orders {
		if o.Operation == paytree.OpPay.String() && o.Amount == 2500 {
			charged = o
		}
	}
	if charged.MoneyHeld() != 2500 {
		return "", fmt.Errorf("the gateway holds %d yen for the crashed pay, want 2500", charged.MoneyHeld())
	}
	d.say("the gateway holds 2,500 yen (order %s); the journal's last word on it is `sending`.", charged.OrderID)

	d.narrate("Recovery.",
		"At the next start (here: `recover`, as at boot) the engine reads the journal's index of unfinished",
		"transactions, finds the pay in `sending`, asks the gateway (confirm) and learns it was PAID.")
	recs, err := d.verb(ExitOK, "recover")
	if err != nil {
		return "", err
	}
	if len(recs) != 1 || recs[0].TransactionID != charged.RequestID || recs[0].State != wbpay.StatePaid || !recs[0].Recovered {
		return "", fmt.Errorf("recovery reported %s, want the crashed pay %s paid", describe(recs), charged.RequestID)
	}
	if err := d.holds(charged.RequestID, 2500, paytree.StatusPaid); err != nil {
		return "", err
	}
	d.say("paid, marked as recovered: the journal and the gateway agree. The POS can hand over the goods.")
	return "(" + yen(2500) + ")", nil
}

// classCode is the simulator's per-request pay class override (contract
// section 9): "99", fifteen zeros, then the class digit.
func classCode(class int) string { return "99" + strings.Repeat("0", 15) + fmt.Sprint(class) }

// shellJoin writes args as a shell would need them (quoting those with spaces).
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

func countOps(l sim.Ledger, op paytree.Operation) int {
	n := 0
	for _, r := range l.Requests {
		if r.Operation == op.String() {
			n++
		}
	}
	return n
}

func describe(rs []*wbpay.Result) string {
	if len(rs) == 0 {
		return "nothing"
	}
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %s %s", r.Operation, r.TransactionID, r.State))
	}
	return strings.Join(parts, ", ")
}

// prefixWriter prefixes every line written through it.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

// flush writes a last unterminated line.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.buf = nil
	}
}
