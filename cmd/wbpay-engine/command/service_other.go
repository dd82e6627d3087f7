//go:build !windows

package command

func (g *globals) runService(serveFlags) error {
	return usageErrorf("serve --service is for Windows; on Linux run serve from systemd (docs/recovery.md)")
}

func (g *globals) installService(string) error {
	return usageErrorf("service install is for Windows; on Linux use the systemd unit of docs/recovery.md")
}

func (g *globals) uninstallService() error {
	return usageErrorf("service uninstall is for Windows; on Linux use the systemd unit of docs/recovery.md")
}
