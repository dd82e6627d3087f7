package bench

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// HistoryStart is when the built history begins (JST); HistorySpan is how
// long it covers: creation times are spread evenly over it.
var (
	HistoryStart = time.Date(2025, 4, 1, 0, 0, 0, 0, paytree.JST)
	HistorySpan  = 365 * 24 * time.Hour
)

// historyCode is a made-up PayPay-like userCode (benchmark data only).
const historyCode = "281234567890123456"

// historyKey stands for a home's userCode key (the engine stores the keyed
// hash, as the history does).
var historyKey = [journal.UserCodeKeySize]byte{1, 2, 3}

// filler writes realistic transactions into a journal through its public
// Append, one bbolt Update per transition, exactly as the engine does.
type filler struct {
	j      *journal.Journal
	rng    *rand.Rand
	total  int           // the number of finished pays the full history will hold
	step   time.Duration // creation-time gap between two pays
	n      int           // finished pays appended so far
	masked string
	hashed string
}

func newFiller(j *journal.Journal, total int) *filler {
	if total < 1 {
		total = 1
	}
	return &filler{j: j, rng: rand.New(rand.NewPCG(1, 2)), total: total, step: HistorySpan / time.Duration(total),
		masked: journal.MaskUserCode(historyCode), hashed: journal.HashUserCodeKeyed(historyKey[:], historyCode)}
}

// uuidV7 returns a UUIDv7 for at as 32 hex digits (as the engine's ids).
func (f *filler) uuidV7(at time.Time) string {
	var u [16]byte
	ms := uint64(at.UnixMilli())
	binary.BigEndian.PutUint64(u[0:8], ms<<16)
	binary.BigEndian.PutUint64(u[8:16], f.rng.Uint64())
	r := f.rng.Uint32()
	u[6] = 0x70 | byte(r>>8)&0x0f
	u[7] = byte(r)
	u[8] = 0x80 | u[8]&0x3f
	return hex.EncodeToString(u[:])
}

// pay returns the snapshot of a new pay created at at, and its amount.
func (f *filler) pay(at time.Time, i int) *journal.Txn {
	id := f.uuidV7(at)
	amount := int64(100 + f.rng.IntN(20000))
	receipt := "R" + strconv.Itoa(100000+i)
	return &journal.Txn{
		ID: id, Op: paytree.OpPay, State: fsm.StateNew, CreatedAt: at, UpdatedAt: at, Amount: amount,
		PayType: paytree.PayPay.Code(), UserCodeMasked: f.masked, UserCodeHash: f.hashed, ReceiptNo: receipt,
		Request: map[string]string{paytree.FPayType: paytree.PayPay.Code(), paytree.FAmount: strconv.FormatInt(amount, 10),
			paytree.FReceiptNo: receipt},
	}
}

// send journals new → sending as the engine's begin does.
func (f *filler) send(s *journal.Txn) error {
	snap := *s
	snap.State, snap.Step = fsm.StateSending, journal.Step{RequestID: s.ID, Kind: paytree.OpPay.String()}
	e := &journal.Entry{TxnID: s.ID, Time: s.CreatedAt, Event: fsm.EvSend, From: fsm.StateNew, To: fsm.StateSending,
		RequestID: s.ID, Kind: paytree.OpPay.String()}
	if err := f.j.Append(e, &snap); err != nil {
		return fmt.Errorf("append send of %s: %w", s.ID, err)
	}
	*s = snap
	return nil
}

// paid journals sending → paid with the gateway's order id and time.
func (f *filler) paid(s *journal.Txn) error {
	snap := *s
	at := s.CreatedAt.Add(time.Duration(300+f.rng.IntN(900)) * time.Millisecond)
	var oid [16]byte
	binary.BigEndian.PutUint64(oid[:8], f.rng.Uint64())
	binary.BigEndian.PutUint64(oid[8:], f.rng.Uint64())
	snap.State, snap.UpdatedAt, snap.OrderID = fsm.StatePaid, at, hex.EncodeToString(oid[:])
	snap.TransStatus = int(paytree.StatusPaid)
	snap.Request = map[string]string{}
	for k, v := range s.Request {
		snap.Request[k] = v
	}
	snap.Request["_transTime"] = paytree.FormatTime(at)
	e := &journal.Entry{TxnID: s.ID, Time: at, Event: fsm.EvPaid, From: fsm.StateSending, To: fsm.StatePaid,
		RequestID: s.ID, Kind: paytree.OpPay.String(), HTTP: "200", ResultCode: paytree.CodeOK}
	if err := f.j.Append(e, &snap); err != nil {
		return fmt.Errorf("append paid of %s: %w", s.ID, err)
	}
	*s = snap
	return nil
}

// fillTo appends finished pays (send, then paid) until the journal holds n.
func (f *filler) fillTo(n int) error {
	for ; f.n < n; f.n++ {
		at := HistoryStart.Add(time.Duration(f.n) * f.step)
		s := f.pay(at, f.n)
		if err := f.send(s); err != nil {
			return err
		}
		if err := f.paid(s); err != nil {
			return err
		}
	}
	return nil
}

// unfinished appends k pays left in sending (new → sending), created after
// the whole history.
func (f *filler) unfinished(k int, at time.Time) ([]*journal.Txn, error) {
	out := make([]*journal.Txn, 0, k)
	for i := range k {
		s := f.pay(at.Add(time.Duration(i)*time.Millisecond), f.total+i)
		if err := f.send(s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
