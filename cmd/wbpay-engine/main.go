// Command wbpay-engine runs the wbpay payment engine, its simulator and its
// audit tools. See `wbpay-engine --help`.
package main

import (
	"os"

	"github.com/wbpay/wbpay/cmd/wbpay-engine/command"
)

func main() {
	os.Exit(command.Execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
