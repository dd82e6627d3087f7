package ship

import "errors"

var (
	// ErrOff is returned by New when the configuration's ShipURL is empty
	// (shipping is off).
	ErrOff = errors.New("ship: shipping is off (ShipURL is empty)")

	// ErrConfig is returned by New when the options or the configuration
	// cannot work: no journal, no merchant or terminal, unreadable TLS or
	// credentials files.
	ErrConfig = errors.New("ship: bad configuration")

	// ErrWrongStream is the error of an acknowledgement from a stream other
	// than the configured ShipStream (the subjects are captured elsewhere).
	ErrWrongStream = errors.New("ship: acknowledged by another stream")
)
