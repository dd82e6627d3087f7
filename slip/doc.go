// Package slip lays out a transaction's receipt (wbpay.Receipt) as a
// plain-text slip for a receipt printer: fixed width (32 or 42 columns, the
// two common roll widths), UTF-8, Japanese labels, one copy for the
// customer (お客様控え) or the store (加盟店控え), and a reprint mark
// (再発行) on every slip after the first of its copy.
//
// Columns are display columns: a wide character (kanji, kana, full-width
// forms) takes two, as on a printer in Japanese mode, so each line is at
// most the width in columns, padded with spaces to exactly it. A value
// that does not fit beside its label goes on its own line, right-aligned;
// one wider than the slip is broken at the width. Render is pure (no I/O,
// no clock): the print time comes with its input, so the same input gives
// the same bytes (the layout is pinned by golden files in testdata/,
// refreshed with WBPAY_UPDATE_GOLDEN=1 go test ./slip/).
//
// Nothing here survives a crash; whether a slip is a reprint is recorded
// in the journal by wbpay.Engine.PrintReceipt before Render is called.
//
// Use:
//
//	p, err := eng.PrintReceipt(id, wbpay.CustomerCopy)
//	text, err := slip.Render(p, slip.Width32)
package slip
