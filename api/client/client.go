package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wbpay/wbpay/api"
)

// Client talks to one daemon. Safe for concurrent use.
type Client struct {
	URL   string // e.g. http://127.0.0.1:8791
	token string
	http  *http.Client
}

// New returns a client of the daemon at url with token.
func New(url, token string) *Client {
	return &Client{URL: strings.TrimRight(url, "/"), token: token, http: &http.Client{}}
}

// Discover returns a client of the daemon serving home: serve.json names
// it, serve.token authenticates, and /v1/health answers within a second.
// ErrNoDaemon (wrapped) when there is none.
func Discover(ctx context.Context, home string) (*Client, api.ServeInfo, error) {
	info, err := api.ReadServeFile(home)
	if err != nil {
		return nil, info, fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	tok, err := api.ReadToken(home)
	if err != nil {
		return nil, info, fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	c := New(info.URL, tok)
	hctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := c.Health(hctx); err != nil {
		return nil, info, fmt.Errorf("%w: %s does not answer: %v", ErrNoDaemon, info.URL, err)
	}
	return c, info, nil
}

// Transaction is the transaction object (local-api.md section 3), as the
// daemon writes it.
type Transaction = api.Transaction

// S returns *p or "".
func S(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Health is /v1/health.
type Health struct {
	State                   string  `json:"state"`
	Unfinished              uint64  `json:"unfinished"`
	GatewayUnreachableSince *string `json:"gatewayUnreachableSince"`
	Version                 string  `json:"version"`
}

// Do sends a request with the token and returns the answer; a 4xx/5xx
// with an error object is returned as *Error (the body closed).
func (c *Client) Do(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		var e struct {
			Error *Error `json:"error"`
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(data, &e) == nil && e.Error != nil {
			e.Error.Status = resp.StatusCode
			return nil, e.Error
		}
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	return resp, nil
}

// getJSON decodes the answer of method path into v.
func (c *Client) getJSON(ctx context.Context, method, path string, body any, header http.Header, v any) (int, error) {
	resp, err := c.Do(ctx, method, path, body, header)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// Health reads /v1/health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/health", nil, nil, &h)
	return h, err
}

// Submit sends request method op ("pay", "refund", "reverse", "deposit",
// "pay-confirm") with body and an optional Idempotency-Key; wait > 0 holds
// the answer (?wait=).
func (c *Client) Submit(ctx context.Context, op string, body any, key string, wait time.Duration) (Transaction, int, error) {
	var t Transaction
	path := "/v1/" + op
	if wait > 0 {
		path += "?wait=" + strconv.Itoa(int(wait/time.Second))
	}
	var h http.Header
	if key != "" {
		h = http.Header{"Idempotency-Key": {key}}
	}
	status, err := c.getJSON(ctx, http.MethodPost, path, body, h, &t)
	return t, status, err
}

// Transaction reads one transaction.
func (c *Client) Transaction(ctx context.Context, id string) (Transaction, error) {
	var t Transaction
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/transactions/"+url.PathEscape(id), nil, nil, &t)
	return t, err
}

// Transactions lists transactions with the query of local-api.md section 3.
func (c *Client) Transactions(ctx context.Context, q url.Values) ([]Transaction, error) {
	var out struct {
		Transactions []Transaction `json:"transactions"`
	}
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/transactions?"+q.Encode(), nil, nil, &out)
	return out.Transactions, err
}

// Entry is one journal entry of /entries.
type Entry = api.Entry

// Entries reads a transaction's journal timeline.
func (c *Client) Entries(ctx context.Context, id string) ([]Entry, error) {
	var out struct {
		Entries []Entry `json:"entries"`
	}
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/transactions/"+url.PathEscape(id)+"/entries", nil, nil, &out)
	return out.Entries, err
}

// VerifyReport is /v1/verify.
type VerifyReport = api.VerifyReport

// Verify asks the daemon to re-check the journal.
func (c *Client) Verify(ctx context.Context) (VerifyReport, error) {
	var v VerifyReport
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/verify", nil, nil, &v)
	return v, err
}

// Export streams /v1/export to w.
func (c *Client) Export(ctx context.Context, q url.Values, w io.Writer) error {
	resp, err := c.Do(ctx, http.MethodGet, "/v1/export?"+q.Encode(), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// Event is one Server-Sent Event of /v1/events; Data is its raw JSON.
type Event struct {
	ID   uint64
	Kind string // state, complete, error
	Data json.RawMessage
	// Decoded Data.
	TransactionID string       `json:"transactionId"`
	RequestType   string       `json:"requestType"`
	Final         bool         `json:"final"`
	Recovered     bool         `json:"recovered"`
	Transaction   *Transaction `json:"transaction"`
	Error         *ErrorObject `json:"error"`
}

// Events follows /v1/events after id after (nil: live only) and calls fn
// for each event until fn returns an error, ctx ends or the stream ends
// (then it returns io.EOF: reconnect with the last id). ready, when set,
// is called once the stream is open.
func (c *Client) Events(ctx context.Context, after *uint64, ready func(), fn func(Event) error) error {
	path := "/v1/events"
	if after != nil {
		path += "?after=" + strconv.FormatUint(*after, 10)
	}
	resp, err := c.Do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ready != nil {
		ready()
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev Event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Kind != "" {
				if err := json.Unmarshal(ev.Data, &ev); err != nil {
					return fmt.Errorf("event %d: %w", ev.ID, err)
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev = Event{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.ID, _ = strconv.ParseUint(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.Kind = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.Data = json.RawMessage(line[6:])
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return io.EOF
}
