package crashpoint

import "slices"

//go:generate go run ./gen

// Crash points outside the sequence driver.
const (
	// TransportSendBefore is hit by the transport before a request leaves
	// (after it is signed), TransportReceiveAfter after its answer arrived.
	TransportSendBefore   = "transport/send/before"
	TransportReceiveAfter = "transport/receive/after"
)

// Declared returns every crash point of the engine, sorted: the sequence
// driver's, generated from the state machines (Commit and Send name them),
// and the transport's. The crash matrix fails when a scenario passes a
// point not listed here, or when a point listed here is passed by no
// scenario.
func Declared() []string {
	out := append([]string{TransportSendBefore, TransportReceiveAfter}, driverPoints...)
	slices.Sort(out)
	return out
}

// IsDeclared reports whether name is a declared crash point.
func IsDeclared(name string) bool {
	return slices.Contains(driverPoints, name) || name == TransportSendBefore || name == TransportReceiveAfter
}

// Commit names the driver's point before (after false) or after the
// journal commit of event ev of an op transaction: "op/ev/journal-before".
func Commit(op, ev string, after bool) string {
	if after {
		return Name(op, ev, "journal-after")
	}
	return Name(op, ev, "journal-before")
}

// Send names the driver's point before a request of kind leaves for an op
// transaction (received false), or after its answer: "op/kind/send-before",
// "op/kind/received".
func Send(op, kind string, received bool) string {
	if received {
		return Name(op, kind, "received")
	}
	return Name(op, kind, "send-before")
}
