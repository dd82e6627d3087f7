package slip

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/paytree"
)

// Slip widths in display columns.
const (
	Width32 = 32
	Width42 = 42
)

// Render returns printed's slip laid out width columns wide (Width32 or
// Width42): lines of exactly width columns, each ending in "\n".
func Render(printed *wbpay.Printed, width int) (string, error) {
	if width != Width32 && width != Width42 {
		return "", ErrWidth
	}
	if printed == nil || printed.Receipt == nil {
		return "", ErrNoReceipt
	}
	r := printed.Receipt
	s := &sheet{w: width}
	s.rule('=')
	title := r.OperationJa
	if r.ChannelJa != "" {
		title = r.ChannelJa + " " + r.OperationJa
	}
	s.center("QRコード決済")
	s.center(title)
	s.center(copyName(printed.Copy))
	if printed.Reprint {
		s.center("** 再発行 **")
	}
	s.rule('-')
	s.kv("加盟店ID", r.MerchantID)
	s.kv("店舗番号", r.BranchCode)
	s.kv("端末番号", r.TerminalCode)
	s.kv("端末識別番号", r.TerminalUniqueID)
	s.rule('-')
	if r.Channel != "" {
		s.kv("決済種別", r.ChannelJa)
	}
	s.kv("取引種別", r.OperationJa)
	s.kv("取引日時", stamp(r.TransTime))
	if r.ReceiptNo != "" {
		s.kv("レシート番号", r.ReceiptNo)
	}
	if r.OrderID != "" {
		s.kv("注文番号", r.OrderID)
	}
	s.kv("取引ID", r.TransactionID)
	if r.UserCodeMasked != "" {
		s.kv("利用者コード", r.UserCodeMasked)
	}
	s.rule('-')
	amount := yen(r.Amount)
	if r.Operation == "refund" || r.Operation == "reverse" {
		amount = "-" + amount
	}
	s.kv(amountLabel(r.Operation), amount)
	if r.RefundedTotal > 0 {
		s.kv("返金累計", yen(r.RefundedTotal))
	}
	s.kv("結果", outcome(r))
	if !r.ReversibleUntil.IsZero() {
		s.kv("取消期限", stamp(r.ReversibleUntil))
		s.line("期限後の取消は返金で承ります")
	}
	s.rule('-')
	s.kv("印刷日時", stamp(printed.At))
	if printed.Reprint {
		s.kv("再発行", strconv.Itoa(printed.Count-1)+"回目")
		s.kv("初回印刷", stamp(printed.First))
	}
	s.rule('=')
	return s.b.String(), nil
}

func copyName(c wbpay.Copy) string {
	if c == wbpay.MerchantCopy {
		return "【加盟店控え】"
	}
	return "【お客様控え】"
}

func amountLabel(op string) string {
	switch op {
	case "refund":
		return "返金額"
	case "reverse":
		return "取消額"
	case "deposit":
		return "入金額"
	}
	return "支払金額"
}

// outcome says in a word how the transaction ended.
func outcome(r *wbpay.Receipt) string {
	switch {
	case r.Settled:
		return "成立"
	case r.State == wbpay.StateEscalated:
		return "要確認(CPSへ連絡)"
	case r.State == wbpay.StateReversed:
		return "不成立(取消済)"
	}
	return "不成立"
}

// stamp writes t in JST as 2006/01/02 15:04:05; "-" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(paytree.JST).Format("2006/01/02 15:04:05")
}

// yen writes n as ¥1,234.
func yen(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString("¥")
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sheet accumulates lines of exactly w columns.
type sheet struct {
	w int
	b strings.Builder
}

func (s *sheet) rule(c byte) { s.b.WriteString(strings.Repeat(string(c), s.w) + "\n") }

// put writes text (at most w columns) padded to w.
func (s *sheet) put(text string) {
	s.b.WriteString(text + strings.Repeat(" ", s.w-Columns(text)) + "\n")
}

// line writes text left-aligned, broken at the width.
func (s *sheet) line(text string) {
	for _, part := range split(clean(text), s.w) {
		s.put(part)
	}
}

// center writes text centred (left of centre when the space is odd).
func (s *sheet) center(text string) {
	text = clean(text)
	n := Columns(text)
	if n >= s.w {
		s.line(text)
		return
	}
	s.put(strings.Repeat(" ", (s.w-n)/2) + text)
}

// right writes text right-aligned, broken at the width.
func (s *sheet) right(text string) {
	for _, part := range split(clean(text), s.w) {
		s.put(strings.Repeat(" ", s.w-Columns(part)) + part)
	}
}

// kv writes label left and value right on one line when both fit with a
// space between, else the label, then the value right-aligned below.
func (s *sheet) kv(label, value string) {
	label, value = clean(label), clean(value)
	if value == "" {
		value = "-"
	}
	l, v := Columns(label), Columns(value)
	if l+1+v <= s.w {
		s.put(label + strings.Repeat(" ", s.w-l-v) + value)
		return
	}
	s.line(label)
	s.right(value)
}

// clean makes text printable on one line: a control character (a line
// break, a tab, an escape that would drive the printer) becomes a space,
// and bytes that are not UTF-8 become "?".
func clean(text string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c == utf8.RuneError:
			return '?'
		case c < 0x20, c >= 0x7f && c < 0xa0:
			return ' '
		}
		return c
	}, text)
}

// split breaks text into pieces of at most w columns (a wide character
// never straddles two).
func split(text string, w int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, c := range text {
		cw := runeColumns(c)
		if n+cw > w {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		cur.WriteRune(c)
		n += cw
	}
	return append(out, cur.String())
}

// Columns returns the display width of s: two columns for each wide
// character (East Asian Wide and Fullwidth: kanji, kana, full-width forms),
// one for the others, none for control characters.
func Columns(s string) int {
	n := 0
	for _, c := range s {
		n += runeColumns(c)
	}
	return n
}

func runeColumns(c rune) int {
	switch {
	case c < 0x20 || c == 0x7f:
		return 0
	case c >= 0xff61 && c <= 0xff9f: // half-width katakana
		return 1
	case c >= 0x1100 && c <= 0x115f, // Hangul Jamo
		c >= 0x2e80 && c <= 0x303e, // CJK radicals, punctuation (【】「」、。)
		c >= 0x3041 && c <= 0x33ff, // kana, CJK symbols
		c >= 0x3400 && c <= 0x4dbf, // CJK extension A
		c >= 0x4e00 && c <= 0x9fff, // CJK unified ideographs
		c >= 0xa000 && c <= 0xa4cf, // Yi
		c >= 0xac00 && c <= 0xd7a3, // Hangul syllables
		c >= 0xf900 && c <= 0xfaff, // CJK compatibility ideographs
		c >= 0xfe30 && c <= 0xfe4f, // CJK compatibility forms
		c >= 0xff00 && c <= 0xff60, // full-width forms
		c >= 0xffe0 && c <= 0xffe6, // full-width signs
		c >= 0x20000 && c <= 0x3fffd:
		return 2
	}
	return 1
}
