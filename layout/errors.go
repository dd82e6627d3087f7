package layout

import (
	"errors"

	"github.com/wbpay/wbpay/internal/atomicfile"
)

var (
	// ErrNotInLayout is returned by Write for a name that is not a file of
	// the layout (Files): every file of a home is described there.
	ErrNotInLayout = errors.New("layout: not a file of the home's layout")

	// ErrExists is returned (wrapped, naming the file) by an exclusive Write
	// and by WriteKeyPair when the file exists: nothing is replaced.
	ErrExists = atomicfile.ErrExists
)
