package fsm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
)

const diagramsDir = "../docs/state-diagrams"

// diagramText is the committed form of docs/state-diagrams/<op>.md.
var diagramText = map[paytree.Operation][2]string{
	paytree.OpPay: {"Pay", "A pay is journaled before it is sent; a lost answer is confirmed, and a pay whose " +
		"outcome stays unknown, or whose customer approval is abandoned, is reversed by its requestId; " +
		"a reverse that cannot be achieved is escalated (CPSCall)."},
	paytree.OpDeposit: {"Deposit", "A deposit follows the pay machine without the customer's approval: " +
		"a lost answer is confirmed, an outcome that stays unknown is reversed, and a reverse that cannot " +
		"be achieved is escalated (CPSCall)."},
	paytree.OpRefund: {"Refund", "A refund is never reversed: a lost answer is confirmed and the same request " +
		"is resent with the same requestId until it settles, or it is escalated (CPSCall).\n\n" +
		"How to read the decision table below, by example: *what does the engine do when a confirm of a refund " +
		"answers PROCESSING during recovery?* A confirm's answer arrives in state `confirming`, about `confirm`; " +
		"a refund still in progress is answered with targetResultCode E9001 (a refund's transStatus is its order's, 8 or 9, " +
		"and is not read; see paytree.ClassifyConfirm), which is the verdict `unknown`. " +
		"The row `confirming | confirm | unknown, not-sent | any` says: nothing is journaled for the answer, and the " +
		"engine confirms again (run `any`: recovery does exactly what a live request does). Once RequestConfirmNum " +
		"confirms are spent, the row `unknown, confirming | confirm | spent` resends the refund with its own " +
		"requestId (journal `resend`); once RequestConfirmNum resends are spent too, `unknown, confirming | resend | spent` " +
		"journals `escalate` and raises the cause with action CPSCall. Only an unreachable gateway is handled " +
		"differently after a restart: a live request parks (N0007), recovery leaves it for its wait for the gateway."},
	paytree.OpReverse: {"Reverse", "A reverse is never undone: a lost answer is confirmed and the same request " +
		"is resent with the same requestId until it settles, or it is escalated (CPSCall)."},
	paytree.OpClose: {"Close", "A business day's close (日計) is a pseudo-transaction with the id close-YYYYMMDD: " +
		"one journaled entry holding the day's totals, nothing sent, never reopened."},
}

func diagramDoc(op paytree.Operation) string {
	t := diagramText[op]
	var b strings.Builder
	b.WriteString("# " + t[0] + " state machine\n\n")
	b.WriteString("<!-- Generated from fsm.Mermaid by TestDiagramsUpToDate; refresh with: WBPAY_UPDATE_DIAGRAMS=1 go test ./fsm/ -->\n\n")
	b.WriteString(t[1] + "\n\n")
	b.WriteString("```mermaid\n" + Mermaid(op) + "```\n")
	if table := DecisionMarkdown(op); table != "" {
		b.WriteString("\n## What the engine does on each verdict\n\n")
		b.WriteString("<!-- Generated from fsm.Decide's table (fsm/decide.go) by TestDiagramsUpToDate -->\n\n")
		b.WriteString("Each row: in `state`, a `verdict` about the step in `about` (the request whose answer it is, or the step " +
			"the sequence was about to take) decides what is journaled (`journal`, the fsm event, before anything more is sent), " +
			"which events are raised (`raise`), the cause an undone outcome reports from then on (`cause`), and what the " +
			"engine does next (`then`). `run` says whether the row holds for a live request, for recovery after a restart, or for any.\n\n")
		b.WriteString(table)
	}
	return b.String()
}

func TestDiagramsUpToDate(t *testing.T) {
	update := os.Getenv("WBPAY_UPDATE_DIAGRAMS") != ""
	for _, op := range machineOps {
		path := filepath.Join(diagramsDir, op.String()+".md")
		want := diagramDoc(op)
		if update {
			require.NoError(t, os.MkdirAll(diagramsDir, 0o755))
			require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("read %s: %v; refresh with: WBPAY_UPDATE_DIAGRAMS=1 go test ./fsm/", path, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s is stale (it differs from fsm.Mermaid(%s)); refresh with: WBPAY_UPDATE_DIAGRAMS=1 go test ./fsm/\n--- committed\n%s\n--- generated\n%s",
				path, op, got, want)
		}
	}
}
