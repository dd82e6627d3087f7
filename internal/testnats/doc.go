// Package testnats runs an embedded NATS server with JetStream on a temp
// directory, on 127.0.0.1 at a free port, for tests only (nothing but _test
// files may import it: it pulls in nats-server). Restart keeps the port and
// the store, so clients reconnect and the stream survives. Nothing survives
// the test.
package testnats
