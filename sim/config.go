package sim

import (
	"crypto/rsa"
	"fmt"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// Defaults of the contract (section 9) for the Config durations left zero.
const (
	DefaultApproveAfter    = 2 * time.Second
	DefaultApprovalTimeout = 60 * time.Second
	DefaultReverseWindow   = 24 * time.Hour
)

// LedgerPath serves the simulator's ledger as JSON (GET only).
const LedgerPath = "/_sim/ledger"

// Config configures a Sim. PrivateKey and ClientPublicKey are required;
// every other field has a usable zero value.
type Config struct {
	PrivateKey      *rsa.PrivateKey // the gateway's key: signs every answer (required)
	ClientPublicKey *rsa.PublicKey  // verifies request signatures, else E1002 (required)
	Clock           clockwork.Clock // nil = real clock; approval timers, reverse window, delays and PROCESSING settle use it
	Logger          *zap.Logger     // nil = nop
	ApproveAfter    time.Duration   // class 1/6: the customer acts this long after the pay (default 2s)
	ApprovalTimeout time.Duration   // class 7: EXPIRED this long after the pay (default 60s)
	ReverseWindow   time.Duration   // a PAID/DEPOSITED order may be reversed this long after the pay (default 24h)
	Classes         Classes         // test classes used when a request carries no override
	Delay           time.Duration   // TestSequenceDelay: wait (on Clock) before answering each request; 0 = none
	Paths           Paths           // zero fields = the contract's paths
	Faults          []Fault         // faults to inject (section 10); see ParseFaults
	Seed            int64           // seeds the fault generator so a run replays

	// Store is a file that keeps the history — orders, recorded requests
	// with their first answers, tombstones — across restarts: New loads it
	// (a missing file is an empty history, created at once) and every
	// request that changes the history rewrites it atomically before its
	// answer is sent. Empty: the history lives in memory only. One Sim at a
	// time per file. Faults, their counts and the generator are not kept.
	Store string

	// Merchants and Terminals are the registration allow-lists: a request
	// whose merchantId is not in Merchants, or whose terminalUniqueId is not
	// in Terminals, is refused with E1003. An empty list registers every
	// well-formed value.
	Merchants []string
	Terminals []string
}

// Classes are the test classes of contract section 9 (library spec
// TestClass…): Pay 0–7, Refund 0–1, Reverse 0, Deposit 0.
type Classes struct{ Pay, Refund, Reverse, Deposit int }

// validate reports the first class out of range.
func (c Classes) validate() error {
	switch {
	case c.Pay < 0 || c.Pay > 7:
		return fmt.Errorf("%w: pay class %d (want 0-7)", ErrConfig, c.Pay)
	case c.Refund < 0 || c.Refund > 1:
		return fmt.Errorf("%w: refund class %d (want 0 or 1)", ErrConfig, c.Refund)
	case c.Reverse != 0:
		return fmt.Errorf("%w: reverse class %d (want 0)", ErrConfig, c.Reverse)
	case c.Deposit != 0:
		return fmt.Errorf("%w: deposit class %d (want 0)", ErrConfig, c.Deposit)
	}
	return nil
}

// Paths are the API paths the simulator serves (contract section 1).
type Paths struct{ Pay, PayV1, Refund, Reverse, Confirm, ConfirmV1, Deposit string }

// DefaultPaths returns the contract's paths.
func DefaultPaths() Paths {
	return Paths{
		Pay:       "/api/v3/pay",
		PayV1:     "/api/v1/pay",
		Refund:    "/api/v3/refund",
		Reverse:   "/api/v3/reverse",
		Confirm:   "/api/v3/confirm",
		ConfirmV1: "/api/v1/confirm",
		Deposit:   "/api/v3/deposit",
	}
}

// route is what a path stands for.
type route struct {
	op paytree.Operation
	v1 bool // the V1 pay or V1 confirm path
}

// withDefaults fills empty paths with the contract's.
func (p Paths) withDefaults() Paths {
	d := DefaultPaths()
	for _, pp := range []struct{ v, d *string }{
		{&p.Pay, &d.Pay}, {&p.PayV1, &d.PayV1}, {&p.Refund, &d.Refund}, {&p.Reverse, &d.Reverse},
		{&p.Confirm, &d.Confirm}, {&p.ConfirmV1, &d.ConfirmV1}, {&p.Deposit, &d.Deposit},
	} {
		if *pp.v == "" {
			*pp.v = *pp.d
		}
	}
	return p
}

// routeEntry is one API path with the name of its Paths field ("Pay",
// "PayV1", …) and what it stands for.
type routeEntry struct {
	name, path string
	r          route
}

// entries lists p's paths with their names and routes.
func (p Paths) entries() []routeEntry {
	return []routeEntry{
		{"Pay", p.Pay, route{paytree.OpPay, false}},
		{"PayV1", p.PayV1, route{paytree.OpPay, true}},
		{"Refund", p.Refund, route{paytree.OpRefund, false}},
		{"Reverse", p.Reverse, route{paytree.OpReverse, false}},
		{"Confirm", p.Confirm, route{paytree.OpConfirm, false}},
		{"ConfirmV1", p.ConfirmV1, route{paytree.OpConfirm, true}},
		{"Deposit", p.Deposit, route{paytree.OpDeposit, false}},
	}
}

// routeName returns the name of r's Paths field ("Pay", "PayV1", …), which
// the store records instead of the path (paths are configurable).
func routeName(r route) string {
	for _, e := range (Paths{}).entries() {
		if e.r == r {
			return e.name
		}
	}
	return ""
}

// routeByName is the inverse of routeName.
func routeByName(name string) (route, bool) {
	for _, e := range (Paths{}).entries() {
		if e.name == name {
			return e.r, true
		}
	}
	return route{}, false
}

// routes maps each path to its operation, refusing duplicates and paths
// that do not start with '/'.
func (p Paths) routes() (map[string]route, error) {
	m := map[string]route{}
	for _, e := range p.entries() {
		if !strings.HasPrefix(e.path, "/") || e.path == LedgerPath {
			return nil, fmt.Errorf("%w: Paths.%s %q must start with '/' and differ from %s", ErrConfig, e.name, e.path, LedgerPath)
		}
		if _, dup := m[e.path]; dup {
			return nil, fmt.Errorf("%w: Paths.%s %q is used twice", ErrConfig, e.name, e.path)
		}
		m[e.path] = e.r
	}
	return m, nil
}

// resolve checks cfg and fills its defaults.
func (cfg Config) resolve() (Config, map[string]route, error) {
	if cfg.PrivateKey == nil {
		return cfg, nil, fmt.Errorf("%w: PrivateKey is required", ErrConfig)
	}
	if cfg.ClientPublicKey == nil || cfg.ClientPublicKey.N == nil {
		return cfg, nil, fmt.Errorf("%w: ClientPublicKey is required", ErrConfig)
	}
	if n := cfg.PrivateKey.N.BitLen(); n < keys.MinBits {
		return cfg, nil, fmt.Errorf("%w: PrivateKey has %d bits, want at least %d", ErrConfig, n, keys.MinBits)
	}
	if n := cfg.ClientPublicKey.N.BitLen(); n < keys.MinBits {
		return cfg, nil, fmt.Errorf("%w: ClientPublicKey has %d bits, want at least %d", ErrConfig, n, keys.MinBits)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ApproveAfter", &cfg.ApproveAfter, DefaultApproveAfter},
		{"ApprovalTimeout", &cfg.ApprovalTimeout, DefaultApprovalTimeout},
		{"ReverseWindow", &cfg.ReverseWindow, DefaultReverseWindow},
		{"Delay", &cfg.Delay, 0},
	} {
		if *d.v < 0 {
			return cfg, nil, fmt.Errorf("%w: %s %v is negative", ErrConfig, d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if err := cfg.Classes.validate(); err != nil {
		return cfg, nil, err
	}
	for i, f := range cfg.Faults {
		if err := f.validate(); err != nil {
			return cfg, nil, fmt.Errorf("%w: Faults[%d]: %v", ErrConfig, i, err)
		}
	}
	for _, l := range []struct {
		name, field string
		values      []string
	}{{"Merchants", paytree.FMerchantID, cfg.Merchants}, {"Terminals", paytree.FTerminalUniqueID, cfg.Terminals}} {
		rule := commonRule(l.field)
		for _, v := range l.values {
			if fe := rule.Check(v); fe != nil {
				return cfg, nil, fmt.Errorf("%w: %s: %q: %s %s", ErrConfig, l.name, v, l.field, fe.Problem)
			}
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	cfg.Paths = cfg.Paths.withDefaults()
	routes, err := cfg.Paths.routes()
	if err != nil {
		return cfg, nil, err
	}
	return cfg, routes, nil
}
