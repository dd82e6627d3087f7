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
// Field rules: one table of request field rules per operation
// (RequestTable; CommonRules for the section 3 fields every request
// carries): each field's wire name, whether it is required, its length in
// characters, its charset, its shape (amount, time, terminal id) and the
// values the contract allows. Table.Check and Rule.Check return a
// *FieldError naming the field and the rule broken, phrased to follow the
// field's name, never quoting the value. The engine (L0003), the simulator
// (E1001), the daemon's API (400) and the configuration (with its line
// numbers) all check these tables; nobody else writes a limit down.
//
// Use:
//
//	f, err := paytree.Decode(body)
//	msg := paytree.Canonical(f) // sign or verify these bytes
//	def, ok := paytree.LookupError("E2002")
//	t, _ := paytree.RequestTable(paytree.OpPay, false)
//	if fe := t.Check(f); fe != nil { … fe.Field, fe.Problem … }
package paytree
