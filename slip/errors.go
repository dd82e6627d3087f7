package slip

import "errors"

// ErrWidth is returned by Render for a width other than Width32 and Width42.
var ErrWidth = errors.New("slip: width must be 32 or 42 columns")

// ErrNoReceipt is returned by Render when it is given no receipt.
var ErrNoReceipt = errors.New("slip: no receipt")
