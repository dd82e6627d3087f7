package paytree

import (
	"strconv"
	"strings"
)

// ErrorType is the kind of an error (WbCPSResponseError.Type).
type ErrorType int

// Error types of library spec 3.1 and contract section 8.
const (
	TypeNetwork     ErrorType = 2 // PAYTREEネット通信エラー
	TypeLibrary     ErrorType = 5 // WbCPSPayライブラリーエラー
	TypePostProcess ErrorType = 6 // WbCPSPayポストプロセスエラー
	TypePaytree     ErrorType = 9 // PAYTREEエラー
)

// String names t ("network", "library", "post-process", "paytree").
func (t ErrorType) String() string {
	switch t {
	case TypeNetwork:
		return "network"
	case TypeLibrary:
		return "library"
	case TypePostProcess:
		return "post-process"
	case TypePaytree:
		return "paytree"
	}
	return "ErrorType(" + strconv.Itoa(int(t)) + ")"
}

// Action is the recommended escalation (推奨エスカレーション, WbCPSAction):
// whom the store staff should call.
type Action int

// Actions. Retry is the contract's addition: nothing moved, the operator may
// run the request again.
const (
	ActionNone Action = iota
	Retry
	Customer
	VendorCall
	CPSCall
)

var actionNames = [...]string{"", "Retry", "Customer", "VendorCall", "CPSCall"}

// String returns the spec's name of a ("CPSCall", …); "" for ActionNone.
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return "Action(" + strconv.Itoa(int(a)) + ")"
	}
	return actionNames[a]
}

// ParseAction reads a name written by String.
func ParseAction(s string) (Action, bool) {
	for i, n := range actionNames {
		if i > 0 && strings.EqualFold(n, s) {
			return Action(i), true
		}
	}
	return ActionNone, false
}

// ErrorDef is one row of the error catalog (contract section 8).
type ErrorDef struct {
	Code       string    // e.g. "E2002"
	Type       ErrorType // 2, 5, 6 or 9
	Action     Action    // the default recommended escalation
	ActionText string    // the contract's action column, e.g. "Retry / CPSCall"
	Message    string    // English
	MessageJA  string    // Japanese, for store staff
}

// catalog is the one copy of contract section 8. The engine, the CLI, the
// simulator and the README's table all read it through Errors and LookupError.
var catalog = []ErrorDef{
	{"N0001", TypeNetwork, Retry, "Retry", "could not connect (request not sent)", "接続できませんでした(リクエストは送信されていません)"},
	{"N0002", TypeNetwork, Retry, "Retry (after reverse) / CPSCall", "timed out waiting for the answer", "応答待ちがタイムアウトしました"},
	{"N0003", TypeNetwork, Retry, "Retry / CPSCall", "HTTP status other than 200", "HTTPステータスが200以外でした"},
	{"N0004", TypeNetwork, Retry, "Retry / CPSCall", "answer unreadable (not flat JSON, requestId mismatch)", "応答を読めません(フラットJSONでない、requestId不一致)"},
	{"N0005", TypeNetwork, VendorCall, "VendorCall", "answer signature invalid", "応答の署名が不正です"},
	{"N0006", TypeNetwork, VendorCall, "VendorCall", "TLS certificate not trusted", "TLS証明書を信頼できません"},
	{"N0007", TypeNetwork, Retry, "Retry (pay, deposit: it will be undone) / VendorCall (refund, reverse: wait for the outcome)", "gateway unreachable after the request was sent: the engine finishes it when the gateway is back; the outcome follows as a later event", "送信後にゲートウェイに接続できません: 接続が戻り次第エンジンが処理を完了し、結果は後のイベントで通知されます"},
	{"L0001", TypeLibrary, VendorCall, "VendorCall", "configuration file missing or invalid", "コンフィギュレーションファイルがないか不正です"},
	{"L0002", TypeLibrary, VendorCall, "VendorCall", "key file missing, unreadable or not RSA >= 2048", "鍵ファイルがない、読めない、またはRSA 2048ビット以上ではありません"},
	{"L0003", TypeLibrary, VendorCall, "VendorCall", "request parameter missing or invalid", "リクエストパラメータが未指定または不正です"},
	{"L0004", TypeLibrary, Retry, "Retry", "a request sequence is still running", "リクエストシーケンスが実行中です"},
	{"L0005", TypeLibrary, VendorCall, "VendorCall", "instance closed", "インスタンスはクローズされています"},
	{"L0006", TypeLibrary, VendorCall, "VendorCall", "another instance holds the home directory", "別のインスタンスがホームディレクトリを使用中です"},
	{"L0007", TypeLibrary, VendorCall, "VendorCall", "journal could not be written: the request was NOT sent", "ジャーナルに書き込めません: リクエストは送信されていません"},
	{"L0008", TypeLibrary, VendorCall, "VendorCall", "PayConfirm while no payment is waiting", "顧客支払待ちの支払がないのにPayConfirmが呼ばれました"},
	{"L0009", TypeLibrary, VendorCall, "VendorCall", "journal could not be written AFTER the request was sent: the gateway's answer is reported with this error; recovery records it once the journal can be written", "送信後にジャーナルに書き込めません: ゲートウェイの応答をこのエラーと共に通知します(ジャーナル復旧後にリカバリが記録します)"},
	{"L0010", TypeLibrary, VendorCall, "VendorCall", "idempotency key reused with another request", "冪等キーが別のリクエストで再利用されました"},
	{"L0011", TypeLibrary, VendorCall, "VendorCall", "local API: missing or wrong token, or a request not from this host", "ローカルAPI: トークンがないか不正、またはこのホスト以外からの要求です"},
	{"L0012", TypeLibrary, CPSCall, "CPSCall", "an earlier refund or reverse of this order is unfinished or escalated: its outcome must be known first", "この注文の先の返金または取消が未完了またはエスカレーション中です: 先にその結果を確認してください"},
	{"P0001", TypePostProcess, CPSCall, "CPSCall", "payment failed and its reverse was not achieved", "支払に失敗し、その取消も完了できませんでした"},
	{"P0002", TypePostProcess, CPSCall, "CPSCall", "deposit failed and its reverse was not achieved", "入金に失敗し、その取消も完了できませんでした"},
	{"E1001", TypePaytree, VendorCall, "VendorCall", "invalid parameter", "パラメータが不正です"},
	{"E1002", TypePaytree, VendorCall, "VendorCall", "request signature invalid", "リクエストの署名が不正です"},
	{"E1003", TypePaytree, CPSCall, "CPSCall", "merchant, terminal or branch not registered", "加盟店・端末・店舗が登録されていません"},
	{"E2001", TypePaytree, Customer, "Customer", "user code invalid or expired", "ユーザーコードが不正または期限切れです"},
	{"E2002", TypePaytree, Customer, "Customer", "insufficient balance", "残高不足です"},
	{"E2003", TypePaytree, CPSCall, "CPSCall", "channel service suspended", "決済サービスが停止中です"},
	{"E2004", TypePaytree, Customer, "Customer", "customer cancelled the approval", "お客様が承認を中止しました"},
	{"E2005", TypePaytree, Customer, "Customer", "customer approval timed out", "お客様の承認がタイムアウトしました"},
	{"E2006", TypePaytree, Customer, "Customer", "refused by the channel (see errorSubCode)", "決済プラットフォームに拒否されました(サブコード参照)"},
	{"E3001", TypePaytree, VendorCall, "VendorCall", "target request or order not found", "対象のリクエストまたはオーダーが見つかりません"},
	{"E3002", TypePaytree, VendorCall, "VendorCall", "refund exceeds the refundable amount", "返金可能額を超えています"},
	{"E3003", TypePaytree, VendorCall, "VendorCall", "reverse not allowed (window passed or wrong status): use refund", "取消できません(期限切れまたは状態不正): 返金してください"},
	{"E3004", TypePaytree, VendorCall, "VendorCall", "target already reversed", "対象は取消済です"},
	{"E3005", TypePaytree, VendorCall, "VendorCall", "requestId reused with other content", "requestIdが別の内容で再利用されました"},
	{"E3006", TypePaytree, VendorCall, "VendorCall", "operation not supported by the channel", "この決済プラットフォームでは利用できない操作です"},
	{"E9001", TypePaytree, CPSCall, "CPSCall", "gateway internal error: outcome UNKNOWN, confirm", "ゲートウェイ内部エラー: 結果不明のため確認します"},
	{"E9002", TypePaytree, Retry, "Retry", "gateway busy or in maintenance: not processed", "ゲートウェイが混雑中またはメンテナンス中: 処理されていません"},
	// The ErrorEvent of a PayConfirm(true) whose confirm still answers
	// WAITING (library spec 4.1 (2)); the gateway never sends it.
	{"W0001", TypePaytree, Customer, "Customer", "customer has not approved yet (WAITING): wait, then PayConfirm again", "顧客支払待ちです(パスコード未入力): お客様の操作を待って再度確認してください"},
}

var catalogIndex = func() map[string]int {
	m := make(map[string]int, len(catalog))
	for i, d := range catalog {
		m[d.Code] = i
	}
	return m
}()

// Errors returns a copy of the whole catalog in contract order.
func Errors() []ErrorDef { return append([]ErrorDef(nil), catalog...) }

// LookupError returns the catalog row of code.
func LookupError(code string) (ErrorDef, bool) {
	i, ok := catalogIndex[code]
	if !ok {
		return ErrorDef{}, false
	}
	return catalog[i], true
}

// Well-known codes, so callers never spell them as literals twice.
const (
	CodeOK = "0000"

	N0001 = "N0001"
	N0002 = "N0002"
	N0003 = "N0003"
	N0004 = "N0004"
	N0005 = "N0005"
	N0006 = "N0006"
	N0007 = "N0007"
	L0001 = "L0001"
	L0002 = "L0002"
	L0003 = "L0003"
	L0004 = "L0004"
	L0005 = "L0005"
	L0006 = "L0006"
	L0007 = "L0007"
	L0008 = "L0008"
	L0009 = "L0009"
	L0010 = "L0010"
	L0011 = "L0011"
	L0012 = "L0012"
	P0001 = "P0001"
	P0002 = "P0002"
	E1001 = "E1001"
	E1002 = "E1002"
	E1003 = "E1003"
	E2001 = "E2001"
	E2002 = "E2002"
	E2003 = "E2003"
	E2004 = "E2004"
	E2005 = "E2005"
	E2006 = "E2006"
	E3001 = "E3001"
	E3002 = "E3002"
	E3003 = "E3003"
	E3004 = "E3004"
	E3005 = "E3005"
	E3006 = "E3006"
	E9001 = "E9001"
	E9002 = "E9002"
	W0001 = "W0001" // this project's addition, never on the wire
)
