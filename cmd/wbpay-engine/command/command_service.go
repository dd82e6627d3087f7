package command

import "github.com/spf13/cobra"

func init() { verbs = append(verbs, newServiceCommand) }

func newServiceCommand(g *globals) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "service install|uninstall",
		Short: "Install or remove the daemon as a Windows service (starts at boot)",
		Long: `service install registers "wbpay-engine serve --service --home HOME" as the
Windows service "wbpay", started automatically at boot (it then recovers
unfinished transactions and serves the local API; it replaces running
recover at boot). Run it as Administrator; start it with "sc start wbpay".
service uninstall removes it (stop it first: "sc stop wbpay").

On Linux, use the systemd unit of docs/recovery.md instead.`,
		Example: `  wbpay-engine service install --home C:\Wellba\WbPay
  wbpay-engine service uninstall`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"install", "uninstall"},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "install":
				return g.installService(listen)
			case "uninstall":
				return g.uninstallService()
			}
			return usageErrorf("service %q: want install or uninstall", args[0])
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "loopback host:port the service listens on (default: ServeListen, else 127.0.0.1:8791)")
	return cmd
}
