//go:build windows

package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// serviceName is the Windows service's name.
const serviceName = "wbpay"

// runService runs serve under the Windows service manager until it stops
// the service.
func (g *globals) runService(f serveFlags) error {
	isSvc, err := svc.IsWindowsService()
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("serve --service: %w", err))
	}
	if !isSvc {
		return usageErrorf("serve --service is started by the Windows service manager (see `wbpay-engine service install`); run `wbpay-engine serve` from a console")
	}
	h := &serviceHandler{g: g, f: f}
	if err := svc.Run(serviceName, h); err != nil {
		return withExit(ExitLibrary, fmt.Errorf("service: %w", err))
	}
	return h.err
}

type serviceHandler struct {
	g   *globals
	f   serveFlags
	err error
}

// Execute is the service's main loop: serve until Stop or Shutdown.
func (h *serviceHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.g.serve(ctx, h.f, func(string) {
			status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
		})
	}()
	for {
		select {
		case err := <-done:
			cancel()
			h.err = err
			if err != nil {
				return true, 1
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
			}
		}
	}
}

// installService registers the service to start at boot.
func (g *globals) installService(listen string) error {
	exe, err := os.Executable()
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	home, err := filepath.Abs(g.home)
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("connect to the service manager (run as Administrator): %w", err))
	}
	defer m.Disconnect()
	args := []string{"serve", "--service", "--home", home}
	if listen != "" {
		args = append(args, "--listen", listen)
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{DisplayName: "wbpay payment engine", StartType: mgr.StartAutomatic,
		Description: "Recovers unfinished payments at boot and serves the wbpay local API on loopback."}, args...)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("create service %s: %w", serviceName, err))
	}
	defer s.Close()
	fmt.Fprintf(g.stdout, "service %s installed (starts at boot): %s %v\nstart it now with: sc start %s\n", serviceName, exe, args, serviceName)
	return nil
}

// uninstallService removes the service.
func (g *globals) uninstallService() error {
	m, err := mgr.Connect()
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("connect to the service manager (run as Administrator): %w", err))
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("open service %s: %w", serviceName, err))
	}
	defer s.Close()
	if err := s.Delete(); err != nil {
		return withExit(ExitLibrary, fmt.Errorf("delete service %s: %w", serviceName, err))
	}
	fmt.Fprintf(g.stdout, "service %s removed (stop it first with: sc stop %s)\n", serviceName, serviceName)
	return nil
}
