package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// APIPayer pays through a daemon's local API as a POS does: it holds one
// event stream open, posts each pay, takes the transaction's id from the
// 202's Location (local-api.md section 2) and waits until that
// transaction's final event has been read and decoded from the stream. The
// bench's daemon figures and the api package's benchmarks time pays with it.
type APIPayer struct {
	url, token, userCode string
	client               *http.Client
	finals               chan string // transaction ids of final events, as decoded
	cancel               context.CancelFunc
}

// NewAPIPayer opens the event stream of the daemon at url (bearer token)
// and returns a payer whose pays use userCode.
func NewAPIPayer(url, token, userCode string) (*APIPayer, error) {
	p := &APIPayer{url: url, token: token, userCode: userCode,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}, finals: make(chan string, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/events", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("event stream: HTTP %d", resp.StatusCode)
	}
	go p.follow(resp.Body)
	return p, nil
}

// follow reads the event stream and hands on the id of each final event.
func (p *APIPayer) follow(body io.ReadCloser) {
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		var ev struct {
			TransactionID string `json:"transactionId"`
			Final         bool   `json:"final"`
		}
		if json.Unmarshal(line[6:], &ev) == nil && ev.Final {
			p.finals <- ev.TransactionID
		}
	}
}

// Pay posts pay i (PayPay, an amount and receipt number drawn from i) and
// waits for its final event.
func (p *APIPayer) Pay(ctx context.Context, i int) error {
	body := fmt.Sprintf(`{"payType":"PAYPAY","amount":%d,"userCode":"%s","receiptNo":"A%d"}`, 1000+i%1000, p.userCode, i)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/v1/pay", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("API pay %d: HTTP %d: %s", i, resp.StatusCode, data)
	}
	txnID, ok := strings.CutPrefix(resp.Header.Get("Location"), "/v1/transactions/")
	if !ok || txnID == "" {
		return fmt.Errorf("API pay %d: 202 without a transaction Location: %q", i, resp.Header.Get("Location"))
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case id := <-p.finals:
			if id == txnID {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("API pay %d: no final event", i)
		}
	}
}

// Close ends the event stream.
func (p *APIPayer) Close() { p.cancel() }
