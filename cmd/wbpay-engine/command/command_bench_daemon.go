package command

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/bench"
	"github.com/wbpay/wbpay/internal/atomicfile"
)

// benchDaemon runs the daemon's measurements (bench --daemon): this binary
// is the daemon child (`serve`).
func (g *globals) benchDaemon(cmd *cobra.Command, o *benchOptions) error {
	exe, work, done, err := g.benchWork(o, "wbpay-bench-daemon-*", "the daemon child")
	if err != nil {
		return err
	}
	defer done()
	history := 0
	for _, n := range o.history {
		history = max(history, n)
	}
	cfg := bench.DaemonConfig{Dir: work, BuildDir: o.buildDir, Pays: o.pays, Warmup: o.warmup, RSSPays: o.rssPays, History: history,
		Progress: g.stderr, Serve: func(ctx context.Context, home, caFile string) *exec.Cmd {
			return exec.CommandContext(ctx, exe, "serve", "--home", home, "--gateway-ca", caFile, "--listen", "127.0.0.1:0")
		}}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := bench.RunDaemon(ctx, cfg)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("bench: %w", err))
	}
	if g.json() {
		return writeJSON(g.stdout, rep)
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "Command: `%s`\n\n", strings.Replace(benchCommandLine(cmd, o), "bench", "bench --daemon", 1))
	rep.WriteDaemon(&md)
	if o.out != "" {
		if err := atomicfile.WriteFile(o.out, md.Bytes(), 0o644, false); err != nil {
			return withExit(ExitLibrary, fmt.Errorf("--out: %w", err))
		}
	}
	_, err = g.stdout.Write(md.Bytes())
	return err
}
