package keys

import (
	"fmt"
	"os"
	"runtime"
)

// ModeWarning returns a warning when users other than its owner may read
// or write the private key file at path (group or other permission bits
// set), "" otherwise, and on Windows, whose ACLs these bits do not show.
func ModeWarning(path string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s has mode %04o: other users can read the private key (chmod 600 it)", path, fi.Mode().Perm())
}
