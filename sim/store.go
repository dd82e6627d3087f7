package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"time"

	"github.com/wbpay/wbpay/internal/atomicfile"
	"github.com/wbpay/wbpay/paytree"
)

// StoreVersion is the format version of a store file (Config.Store); New
// refuses a file of any other version.
const StoreVersion = 1

// storePerm is the mode of a store file: it holds the requests' fields.
const storePerm = 0o600

// storeFile is the JSON of a store file: the whole history, in arrival
// order.
type storeFile struct {
	Version    int            `json:"version"`
	Orders     []storedOrder  `json:"orders"`
	Requests   []storedRecord `json:"requests"`
	Tombstones []storedKey    `json:"tombstones"`
}

// storedKey is a reqKey.
type storedKey struct {
	Terminal  string `json:"terminalUniqueId"`
	RequestID string `json:"requestId"`
}

// storedOrder is an order with every field, the pending approval or settle
// included (settleAt, settleTo), so that it still settles after a restart.
type storedOrder struct {
	OrderID   string    `json:"orderId"`
	RequestID string    `json:"requestId"`
	Terminal  string    `json:"terminalUniqueId"`
	Operation string    `json:"operation"` // pay | deposit
	PayType   string    `json:"payType"`
	Amount    int64     `json:"amount"`
	Refunded  int64     `json:"refundedTotal"`
	Status    int       `json:"transStatus"` // as last evaluated; settleAt may have passed since
	SettleAt  time.Time `json:"settleAt,omitzero"`
	SettleTo  int       `json:"settleTo,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	TransTime string    `json:"transTime"`
}

// storedRecord is a record: the idempotency key, the route by the name of
// its Paths field, the normalized request, the first answer and the rest.
type storedRecord struct {
	storedKey
	Route           string         `json:"route"` // Pay, PayV1, Refund, Reverse, Confirm, ConfirmV1, Deposit
	Fields          paytree.Fields `json:"fields"`
	Answer          paytree.Fields `json:"answer"`
	Count           int            `json:"count"`
	LostForever     bool           `json:"lostForever,omitempty"`
	LoseFirst       bool           `json:"loseFirst,omitempty"`
	OrderID         string         `json:"orderId,omitempty"`
	TargetRequestID string         `json:"targetRequestId,omitempty"`
	Amount          int64          `json:"amount,omitempty"`
	TransTime       string         `json:"transTime,omitempty"`
}

// staged is a snapshot of the history taken under s.mu, to be written by
// commit after the lock is released.
type staged struct {
	data []byte
	gen  uint64
	err  error
}

// stageLocked serializes the history for the store; nil without a store.
// The caller holds s.mu.
func (s *Sim) stageLocked() *staged {
	if s.cfg.Store == "" {
		return nil
	}
	s.gen++
	data, err := s.encodeLocked()
	return &staged{data: data, gen: s.gen, err: err}
}

// commit writes st durably (temporary file, fsync, rename, fsync of the
// directory) unless a later snapshot, which holds st's changes too, was
// written already. It returns once the history of st is on disk.
func (s *Sim) commit(st *staged) error {
	if st == nil {
		return nil
	}
	if st.err != nil {
		return fmt.Errorf("%w: %s: encode: %w", ErrStore, s.cfg.Store, st.err)
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if st.gen <= s.savedGen {
		return nil
	}
	if err := atomicfile.WriteFile(s.cfg.Store, st.data, storePerm, false); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStore, s.cfg.Store, err)
	}
	s.savedGen = st.gen
	return nil
}

// encodeLocked writes the history as an indented store file. The caller
// holds s.mu.
func (s *Sim) encodeLocked() ([]byte, error) {
	sf := storeFile{
		Version:    StoreVersion,
		Orders:     make([]storedOrder, 0, len(s.orderList)),
		Requests:   make([]storedRecord, 0, len(s.recordList)),
		Tombstones: make([]storedKey, 0, len(s.tombstones)),
	}
	for _, o := range s.orderList {
		sf.Orders = append(sf.Orders, storedOrder{
			OrderID: o.id, RequestID: o.requestID, Terminal: o.terminal, Operation: o.op.String(),
			PayType: o.payType, Amount: o.amount, Refunded: o.refunded, Status: int(o.status),
			SettleAt: o.settleAt, SettleTo: int(o.settleTo), CreatedAt: o.createdAt, TransTime: o.transTime,
		})
	}
	for _, r := range s.recordList {
		sr := storedRecord{
			storedKey: storedKey{r.key.terminal, r.key.requestID},
			Route:     routeName(r.rt), Fields: r.fields, Answer: r.answer, Count: r.count,
			LostForever: r.lostForever, LoseFirst: r.loseFirst, TargetRequestID: r.targetRequestID,
			Amount: r.amount, TransTime: r.transTime,
		}
		if r.order != nil {
			sr.OrderID = r.order.id
		}
		sf.Requests = append(sf.Requests, sr)
	}
	for k := range s.tombstones {
		sf.Tombstones = append(sf.Tombstones, storedKey{k.terminal, k.requestID})
	}
	sort.Slice(sf.Tombstones, func(i, j int) bool {
		a, b := sf.Tombstones[i], sf.Tombstones[j]
		if a.Terminal != b.Terminal {
			return a.Terminal < b.Terminal
		}
		return a.RequestID < b.RequestID
	})
	data, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// openStore loads s.cfg.Store into s (empty, fresh maps). A missing file is
// an empty history, written at once so that an unusable path fails now; any
// other problem is an error wrapping ErrStore that names the file, and the
// file is left as it is.
func (s *Sim) openStore() error {
	path := s.cfg.Store
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		st := s.stageLocked()
		if err := s.commit(st); err != nil {
			return fmt.Errorf("%w (cannot create the store)", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStore, path, err)
	}
	if err := s.decode(data); err != nil {
		return fmt.Errorf("%w: %s: not a usable simulator store (left untouched): %w", ErrStore, path, err)
	}
	return nil
}

// decode restores the history from a store file's content, checking that
// it is whole and consistent.
func (s *Sim) decode(data []byte) error {
	// The version first, so that another version is named as such even
	// when its layout differs; then the whole file, strictly.
	var head struct {
		Version int `json:"version"`
	}
	if err := strictJSON(data, &head, false); err != nil {
		return err
	}
	if head.Version != StoreVersion {
		return fmt.Errorf("version %d, want %d", head.Version, StoreVersion)
	}
	var sf storeFile
	if err := strictJSON(data, &sf, true); err != nil {
		return err
	}
	for i, so := range sf.Orders {
		o, err := restoreOrder(so)
		if err != nil {
			return fmt.Errorf("orders[%d]: %w", i, err)
		}
		if _, dup := s.orders[o.id]; dup {
			return fmt.Errorf("orders[%d]: orderId %q is used twice", i, o.id)
		}
		s.orders[o.id] = o
		s.orderList = append(s.orderList, o)
	}
	for i, sr := range sf.Requests {
		r, err := s.restoreRecord(sr)
		if err != nil {
			return fmt.Errorf("requests[%d]: %w", i, err)
		}
		if _, dup := s.records[r.key]; dup {
			return fmt.Errorf("requests[%d]: terminalUniqueId %q requestId %q is recorded twice", i, r.key.terminal, r.key.requestID)
		}
		s.records[r.key] = r
		s.recordList = append(s.recordList, r)
	}
	for i, k := range sf.Tombstones {
		if k.Terminal == "" || k.RequestID == "" {
			return fmt.Errorf("tombstones[%d]: empty terminalUniqueId or requestId", i)
		}
		s.tombstones[reqKey{k.Terminal, k.RequestID}] = true
	}
	return nil
}

// strictJSON decodes data, one JSON value and nothing after it, into v;
// with exact, a field v does not have is an error.
func strictJSON(data []byte, v any, exact bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if exact {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("truncated or empty JSON")
		}
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

func restoreOrder(so storedOrder) (*order, error) {
	op, ok := paytree.ParseOperation(so.Operation)
	if !ok || (op != paytree.OpPay && op != paytree.OpDeposit) {
		return nil, fmt.Errorf("operation %q (want pay or deposit)", so.Operation)
	}
	st := paytree.TransStatus(so.Status)
	if !st.Valid() {
		return nil, fmt.Errorf("transStatus %d is unknown", so.Status)
	}
	to := paytree.TransStatus(so.SettleTo)
	if !so.SettleAt.IsZero() && !to.Valid() {
		return nil, fmt.Errorf("settleTo %d is unknown", so.SettleTo)
	}
	switch {
	case so.OrderID == "" || so.RequestID == "" || so.Terminal == "":
		return nil, errors.New("empty orderId, requestId or terminalUniqueId")
	case so.Amount < 1 || so.Refunded < 0 || so.Refunded > so.Amount:
		return nil, fmt.Errorf("amount %d, refundedTotal %d", so.Amount, so.Refunded)
	}
	return &order{
		id: so.OrderID, requestID: so.RequestID, terminal: so.Terminal, op: op, payType: so.PayType,
		amount: so.Amount, refunded: so.Refunded, status: st, settleAt: so.SettleAt, settleTo: to,
		createdAt: so.CreatedAt, transTime: so.TransTime,
	}, nil
}

func (s *Sim) restoreRecord(sr storedRecord) (*record, error) {
	rt, ok := routeByName(sr.Route)
	switch {
	case !ok:
		return nil, fmt.Errorf("route %q is unknown", sr.Route)
	case sr.Terminal == "" || sr.RequestID == "":
		return nil, errors.New("empty terminalUniqueId or requestId")
	case sr.Answer[paytree.FResultCode] == "":
		return nil, errors.New("the answer has no resultCode")
	case sr.Count < 1:
		return nil, fmt.Errorf("count %d", sr.Count)
	}
	r := &record{
		key: reqKey{sr.Terminal, sr.RequestID}, rt: rt, fields: sr.Fields, answer: sr.Answer, count: sr.Count,
		lostForever: sr.LostForever, loseFirst: sr.LoseFirst, targetRequestID: sr.TargetRequestID,
		amount: sr.Amount, transTime: sr.TransTime,
	}
	if r.fields == nil {
		r.fields = paytree.Fields{}
	}
	if sr.OrderID != "" {
		if r.order = s.orders[sr.OrderID]; r.order == nil {
			return nil, fmt.Errorf("orderId %q is not among the orders", sr.OrderID)
		}
	}
	// A processed pay, deposit or refund acted on an order, which confirms
	// of it report.
	if r.order == nil && r.answer[paytree.FResultCode] == paytree.CodeOK &&
		(rt.op == paytree.OpPay || rt.op == paytree.OpDeposit || rt.op == paytree.OpRefund) {
		return nil, fmt.Errorf("a processed %s without an orderId", rt.op)
	}
	return r, nil
}
