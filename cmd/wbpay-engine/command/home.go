package command

import (
	"os"
	"path/filepath"
	"runtime"
)

// defaultHome is $WBPAY_HOME, else C:\Wellba\WbPay on Windows (library spec
// 2.1), else $XDG_DATA_HOME/wbpay or ~/.local/share/wbpay.
func defaultHome() string {
	if h := os.Getenv("WBPAY_HOME"); h != "" {
		return h
	}
	if runtime.GOOS == "windows" {
		return `C:\Wellba\WbPay`
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "wbpay")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "wbpay")
	}
	return "wbpay-home"
}
