// Package clients holds no Go code of its own: it is the home of the
// drop-in clients of the wbpay daemon (wbpay-engine serve, local API v1),
// written in other languages, and of the test that runs them in CI.
//
//   - dotnet/: WbPay.dll, the C# assembly with the library spec's public API
//     (namespace WbPay, class WbCPSPay, its requests, responses, events and
//     WbPayException) for .NET Framework 4.5, built with Mono's mcs by
//     dotnet/build.sh or with MSBuild from dotnet/WbPay.csproj; see
//     dotnet/README.md for the migration guide.
//   - java/: the same surface for JDK 11+ (java.net.http only), built by
//     java/build.sh.
//
// clients_test.go builds wbpay-engine, starts the PAYTREE simulator on
// loopback TLS and the daemon as a subprocess on 127.0.0.1:0, builds each
// client and runs its test program against them. A program asks for a
// crash by printing the line "@@KILL_DAEMON": the test SIGKILLs the daemon,
// starts it again on the same home (a new port and pid in serve.json) and
// answers "@@RESTARTED" on the program's stdin. Each program ends with the
// line "N passed, M failed"; the test passes when M is 0. Without mono/mcs
// or a JDK the test skips, naming the Debian packages to install; it also
// skips while the engine has no serve verb.
//
// protocol_test.go runs the same programs' "protocol" mode against a
// scripted stand-in of the daemon, for what the real one cannot do on cue:
// an answer lost after the request arrived (the retry must carry the same
// Idempotency-Key and body), an event before its request's answer,
// duplicate event ids, a daemon that moves to another port (serve.json
// re-read, Last-Event-ID on the reconnect), and every kind of error answer.
// It needs no daemon, so it runs on every branch.
package clients
