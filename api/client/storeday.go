package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wbpay/wbpay"
)

// Report reads the report kind ("interim" or "daily") of business day date
// (YYYY-MM-DD; "" for today). A daily report closes the day, or reprints
// it when it is closed.
func (c *Client) Report(ctx context.Context, kind wbpay.ReportKind, date string) (*wbpay.Report, error) {
	method := http.MethodGet
	if kind == wbpay.ReportDaily {
		method = http.MethodPost
	}
	path := "/v1/reports/" + url.PathEscape(string(kind))
	if date != "" {
		path += "?" + url.Values{"date": {date}}.Encode()
	}
	var rep wbpay.Report
	if _, err := c.getJSON(ctx, method, path, nil, nil, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Receipt reads the receipt of finished transaction id (no print recorded).
func (c *Client) Receipt(ctx context.Context, id string) (*wbpay.Receipt, error) {
	var r wbpay.Receipt
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/transactions/"+url.PathEscape(id)+"/receipt", nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Slip is a printed slip: the engine's Printed, the width and the text.
type Slip struct {
	wbpay.Printed
	Width int    `json:"width"`
	Text  string `json:"text"`
}

// PrintReceipt records one print of copy cp of transaction id's receipt and
// returns the slip laid out width columns wide (32 or 42).
func (c *Client) PrintReceipt(ctx context.Context, id string, cp wbpay.Copy, width int) (*Slip, error) {
	q := url.Values{"copy": {string(cp)}, "width": {strconv.Itoa(width)}}
	var s Slip
	if _, err := c.getJSON(ctx, http.MethodPost, "/v1/transactions/"+url.PathEscape(id)+"/receipt?"+q.Encode(), nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Resolve records what CPS said about escalated transaction id and returns
// the transaction, now resolved. It sends nothing to the gateway.
func (c *Client) Resolve(ctx context.Context, id, outcome, operator, note string) (Transaction, error) {
	var t Transaction
	body := map[string]string{"outcome": outcome, "operator": operator, "note": note}
	_, err := c.getJSON(ctx, http.MethodPost, "/v1/transactions/"+url.PathEscape(id)+"/resolve", body, nil, &t)
	return t, err
}
