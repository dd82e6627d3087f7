// Package config reads WbCPSPay.conf, the engine's configuration file
// (library spec 2.6), fills in the defaults and validates every value.
//
// Format: UTF-8 text (a leading BOM and CRLF line ends are tolerated), one
// "Key = Value" per line, spaces around "=" ignored, "#" starting a comment
// that runs to the end of the line (so no value contains "#"), blank lines
// ignored. Keys match case-insensitively (a spelling other than the spec's is
// warned about); the spec's TerminalUniquId may also be written
// TerminalUniqueId, but not both. Durations are whole seconds, flags yes or
// no, LogLevel a value 0–4 or a name.
//
// Errors: Parse reports every problem of a file at once, each an *Error
// wrapping ErrInvalid whose message names the file, the line and the key:
//
//	WbCPSPay.conf:7: MerchantId: must be exactly 12 digits, got "1234"
//	WbCPSPay.conf: BranchCode: required key missing
//
// Unknown keys and suspicious but usable values (a non-standard AppVersion,
// RequestConfirmNum of 3 or more, IgnoreCertificateError = yes) become
// Config.Warnings. The engine maps ErrInvalid to L0001.
//
// Test mode: with AppTestMode = yes the engine talks to its in-process
// simulator, so ServerURL, the ApiPath keys and PublicKeyFile are optional
// and HttpTimeout may be shorter than 15 s. The ApiPath keys always default
// to the wire contract's simulator paths (/api/v3/pay, …).
//
// The engine only reads the file, once at start-up; nothing here holds
// state across a crash. Write is the one writer of the file (init, the
// demo, the bench and the tests use it): it renders a Conf, either the
// commented template of every key (Template, what "wbpay-engine init"
// writes) with values filled in, or a short list of keys, and writes it
// atomically with the mode of the home's layout (package layout), so that
// a crash leaves the old file or the whole new one.
//
// Use:
//
//	cfg, err := config.Load(filepath.Join(home, config.FileName))
//	if err != nil { … } // errors.Is(err, config.ErrInvalid)
//	for _, w := range cfg.Warnings { log.Warn(w.String()) }
//	priv := cfg.ResolvePath(home, cfg.PrivateKeyFile)
package config
