package command

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wbpay/wbpay/bench"
)

// chainBenchOptions are the flags of `wbpay-engine bench --chain`.
type chainBenchOptions struct {
	on                 bool
	terminals, entries int
	nats, db, drainDB  string
	parallel           int
}

// addChainFlags registers the chain bench's flags on bench's flag set.
func addChainFlags(f *pflag.FlagSet, o *chainBenchOptions) {
	f.BoolVar(&o.on, "chain", false, "run only the chain bench (issue 15): journals shipped through --nats into --db, see BENCHMARKS.md")
	f.IntVar(&o.terminals, "chain-terminals", 1000, "terminals of the chain bench")
	f.IntVar(&o.entries, "chain-entries", 1000, "journal entries per terminal of the chain bench")
	f.StringVar(&o.nats, "nats", "", "chain bench: NATS server with JetStream (its stream WBPAY_JOURNAL must be empty or absent)")
	f.StringVar(&o.db, "db", "", "chain bench: empty PostgreSQL database for HQ")
	f.StringVar(&o.drainDB, "drain-db", "", "chain bench: a second empty database, for the collector-only drain rate (\"\" skips it)")
	f.IntVar(&o.parallel, "chain-parallel", 64, "chain bench: shippers at once")
}

// benchChain runs the chain bench against the servers given.
func (g *globals) benchChain(cmd *cobra.Command, o *benchOptions) error {
	c := o.chain
	if c.nats == "" || c.db == "" {
		return usageErrorf("--chain needs --nats and --db (the Go test TestRunChain starts both itself: WBPAY_BENCH_CHAIN=1000x1000 go test -run TestRunChain -timeout 100m ./bench/)")
	}
	if c.terminals < 1 || c.entries < 2 {
		return usageErrorf("--chain-terminals must be at least 1 and --chain-entries at least 2")
	}
	rep, err := bench.RunChain(cmd.Context(), bench.ChainConfig{Terminals: c.terminals, Entries: c.entries, BuildDir: o.buildDir,
		NATSURL: c.nats, DSN: c.db, DrainDSN: c.drainDB, Parallel: c.parallel, Progress: g.stderr})
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	if g.json() {
		return jsonOrExit(g, rep)
	}
	rep.Markdown(g.stdout, bench.ReadMachine())
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return withExit(ExitLibrary, err)
		}
		defer f.Close()
		rep.Markdown(f, bench.ReadMachine())
		fmt.Fprintf(g.stderr, "wrote %s\n", o.out)
	}
	return nil
}
