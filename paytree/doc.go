// Package paytree is the PAYTREE wire vocabulary shared by the engine, the
// transport and the simulator: channel codes, transaction statuses, actions,
// the error catalog of the wire contract (section 8), field names, the flat
// JSON codec and the canonical string that signatures cover (section 2).
//
// It does no I/O and imports nothing of the project, so every other package
// can depend on it. Nothing here survives a crash because nothing here holds
// state: the catalog and the channel table are constants.
//
// Wire format: one flat JSON object whose values are all strings. Decode
// refuses nesting, non-string values, duplicate keys, invalid UTF-8, bad
// field names and bodies over MaxBodyBytes, with an error that names the
// problem, and never panics. Canonical builds the string that SHA1withRSA
// signs: non-empty fields except "sign", sorted by key, written key=value and
// joined by '&', with '%', '&' and '=' escaped in values.
//
// Use:
//
//	f, err := paytree.Decode(body)
//	msg := paytree.Canonical(f) // sign or verify these bytes
//	def, ok := paytree.LookupError("E2002")
package paytree
