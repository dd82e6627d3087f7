package journaltest

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// UserCode is the made-up full userCode of every pay; a test checks that it
// appears nowhere outside the terminal.
const UserCode = "281234567890123456"

// Pays appends n pays to j, numbered from first: each is journaled new →
// sending → paid, except every 7th, which is left unknown (answer lost), and
// every 11th, which ends escalated. Creation times are a minute apart from
// at. The receipt of pay i is ReceiptNo(prefix, i).
func Pays(j *journal.Journal, prefix string, first, n int, at time.Time) error {
	for i := first; i < first+n; i++ {
		if err := pay(j, prefix, i, at.Add(time.Duration(i)*time.Minute)); err != nil {
			return err
		}
	}
	return nil
}

// ReceiptNo is the receipt number of pay i of a terminal with prefix.
func ReceiptNo(prefix string, i int) string { return prefix + "-R" + strconv.Itoa(i) }

// TxnID is the id of pay i of a terminal with prefix (32 hex digits).
func TxnID(prefix string, i int) string {
	var h uint32
	for _, c := range prefix {
		h = h*31 + uint32(c)
	}
	return fmt.Sprintf("0195f3a2%08x7%03x8%015x", h, i%4096, i)
}

func pay(j *journal.Journal, prefix string, i int, at time.Time) error {
	id := TxnID(prefix, i)
	amount := int64(100 + i%900)
	s := &journal.Txn{ID: id, Op: paytree.OpPay, State: fsm.StateSending, CreatedAt: at, UpdatedAt: at, Amount: amount,
		PayType: paytree.PayPay.Code(), UserCodeMasked: journal.MaskUserCode(UserCode), UserCodeHash: journal.HashUserCode(UserCode),
		ReceiptNo: ReceiptNo(prefix, i),
		Request:   map[string]string{paytree.FAmount: strconv.FormatInt(amount, 10), "userCode": UserCode},
		Step:      journal.Step{RequestID: id, Kind: "pay"}}
	e := &journal.Entry{TxnID: id, Time: at, Event: fsm.EvSend, From: fsm.StateNew, To: fsm.StateSending, RequestID: id, Kind: "pay"}
	if err := j.Append(e, s); err != nil {
		return fmt.Errorf("pay %d send: %w", i, err)
	}
	at = at.Add(500 * time.Millisecond)
	snap := *s
	snap.UpdatedAt = at
	switch {
	case i%11 == 10:
		snap.State = fsm.StateUnknown
		e = &journal.Entry{TxnID: id, Time: at, Event: fsm.EvLost, From: fsm.StateSending, To: fsm.StateUnknown, RequestID: id, Kind: "pay", HTTP: "timeout"}
		if err := j.Append(e, &snap); err != nil {
			return fmt.Errorf("pay %d lost: %w", i, err)
		}
		snap2 := snap
		snap2.State = fsm.StateEscalated
		snap2.LastError = &journal.ErrorInfo{Type: 4, Code: "E9999", Message: "outcome unknown", Action: "CPSCall"}
		e = &journal.Entry{TxnID: id, Time: at.Add(time.Second), Event: fsm.EvEscalate, From: fsm.StateUnknown, To: fsm.StateEscalated, Error: snap2.LastError}
		if err := j.Append(e, &snap2); err != nil {
			return fmt.Errorf("pay %d escalate: %w", i, err)
		}
	case i%7 == 6:
		snap.State = fsm.StateUnknown
		e = &journal.Entry{TxnID: id, Time: at, Event: fsm.EvLost, From: fsm.StateSending, To: fsm.StateUnknown, RequestID: id, Kind: "pay", HTTP: "timeout"}
		if err := j.Append(e, &snap); err != nil {
			return fmt.Errorf("pay %d lost: %w", i, err)
		}
	default:
		snap.State, snap.OrderID, snap.TransStatus = fsm.StatePaid, fmt.Sprintf("%032x", 0xabc000000+i), int(paytree.StatusPaid)
		e = &journal.Entry{TxnID: id, Time: at, Event: fsm.EvPaid, From: fsm.StateSending, To: fsm.StatePaid, RequestID: id, Kind: "pay", HTTP: "200", ResultCode: paytree.CodeOK}
		if err := j.Append(e, &snap); err != nil {
			return fmt.Errorf("pay %d paid: %w", i, err)
		}
	}
	return nil
}
