package paytree_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// vectorFile is testdata/signature-vectors.json, a copy of the contract's
// vectors made by an independent implementation (OpenSSL). Its key pair is
// TEST-ONLY.
type vectorFile struct {
	About      string `json:"about"`
	PrivatePEM string `json:"testPrivateKeyPem"`
	PublicPEM  string `json:"testPublicKeyPem"`
	Vectors    []struct {
		Name      string         `json:"name"`
		Fields    paytree.Fields `json:"fields"`
		Canonical string         `json:"canonical"`
		Sign      string         `json:"sign"`
	} `json:"vectors"`
}

func loadVectors(t testing.TB) (*vectorFile, *rsa.PrivateKey, *rsa.PublicKey) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "signature-vectors.json"))
	require.NoError(t, err)
	var vf vectorFile
	require.NoError(t, json.Unmarshal(data, &vf))
	require.Contains(t, vf.About, "TEST-ONLY")
	priv, err := keys.ParsePrivatePEM([]byte(vf.PrivatePEM))
	require.NoError(t, err)
	pub, err := keys.ParsePublicPEM([]byte(vf.PublicPEM))
	require.NoError(t, err)
	require.True(t, priv.PublicKey.Equal(pub), "the vectors' public key is the private key's half")
	return &vf, priv, pub
}

// TestSignatureVectors reproduces every vector of the contract byte for byte.
func TestSignatureVectors(t *testing.T) {
	vf, priv, pub := loadVectors(t)
	require.Len(t, vf.Vectors, 3)
	for _, v := range vf.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			got := paytree.Canonical(v.Fields)
			assert.Equal(t, v.Canonical, got, "canonical string")
			sig, err := keys.Sign(priv, []byte(got))
			require.NoError(t, err)
			assert.Equal(t, v.Sign, sig, "signature")
			assert.NoError(t, keys.Verify(pub, []byte(v.Canonical), v.Sign))

			// The same fields through the codec give the same string.
			body, err := paytree.Encode(v.Fields)
			require.NoError(t, err)
			back, err := paytree.Decode(body)
			require.NoError(t, err)
			assert.Equal(t, v.Canonical, paytree.Canonical(back))

			// A signed message carries its sign field, which the canonical
			// string leaves out.
			signed := v.Fields.Clone()
			signed[paytree.FSign] = sig
			assert.Equal(t, v.Canonical, paytree.Canonical(signed))
		})
	}
}

// goldenFile is testdata/golden-canonical.json: our own cases, signed with
// the TEST-ONLY key of signature-vectors.json.
type goldenFile struct {
	About string       `json:"about"`
	Cases []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name      string         `json:"name"`
	Fields    paytree.Fields `json:"fields"`
	Canonical string         `json:"canonical"`
	Sign      string         `json:"sign"`
}

// goldenInputs are the field maps of the golden file.
var goldenInputs = []struct {
	name   string
	fields paytree.Fields
}{
	{"ampersand, equals and percent", paytree.Fields{"amount": "1000", "remark": "a&b=c%d"}},
	{"escape order: a literal %26 stays distinct from &", paytree.Fields{"note": "&", "remark": "%26"}},
	{"escaped-looking values", paytree.Fields{"a": "%3D", "b": "=", "c": "%25%", "d": "&&=="}},
	{"Japanese", paytree.Fields{"refundReason": "返品 (袋破れ)", "remark": "テスト・ｶﾅ 日本語", "requestId": "r1"}},
	{"empty values are left out", paytree.Fields{"a": "", "b": "x", "c": "", "errorSubCode": ""}},
	{"nothing but empty values", paytree.Fields{"a": "", "sign": "ignored"}},
	{"sign is left out, signType is not", paytree.Fields{"amount": "1000", "sign": "c2lnbg==", "signType": "RSA"}},
	{"keys sorted by byte", paytree.Fields{"Z": "1", "a": "2", "A": "3", "z": "4", "0": "5", "aB": "6", "ab": "7"}},
	{"whitespace kept", paytree.Fields{"remark": " lead and trail \n\t", "x": " "}},
	{"other Unicode", paytree.Fields{"remark": "🍣 € \u00e9 \u200b", "zNewField": "x=1&y=%"}},
	{"refund request", paytree.Fields{
		paytree.FMerchantID: "123456789012", paytree.FTerminalUniqueID: "1234501234561", paytree.FBranchCode: "B001",
		paytree.FTerminalCode: "T01", paytree.FLocale: "JAPAN", paytree.FTimeZone: "p9", paytree.FCurrencyCode: "JPY",
		paytree.FAppVersion: "windows-WbCPSPay-1.0", paytree.FSignType: "RSA", paytree.FRequestID: "0192f3a4b5c67d8e9f0a1b2c3d4e5f70",
		paytree.FRequestTime: "20261126101500", paytree.FOrderID: "PT20261126101000A0BB51B705DC8300",
		paytree.FRefundAmount: "500", paytree.FRefundReason: "お客様都合 & 返品=1件 (100%)", paytree.FRemark: "",
	}},
}

// TestGoldenCanonical compares our cases with testdata/golden-canonical.json;
// WBPAY_UPDATE_GOLDEN=1 rewrites the file.
func TestGoldenCanonical(t *testing.T) {
	_, priv, pub := loadVectors(t)
	var computed []goldenCase
	for _, in := range goldenInputs {
		c := paytree.Canonical(in.fields)
		sig, err := keys.Sign(priv, []byte(c))
		require.NoError(t, err)
		computed = append(computed, goldenCase{Name: in.name, Fields: in.fields, Canonical: c, Sign: sig})
	}
	path := filepath.Join("testdata", "golden-canonical.json")
	if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(goldenFile{
			About: "Canonical strings (contract section 2) and SHA1withRSA signatures made with the TEST-ONLY key of signature-vectors.json. Regenerate with WBPAY_UPDATE_GOLDEN=1 go test ./paytree/.",
			Cases: computed,
		}))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		t.Logf("rewrote %s", path)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err, "run with WBPAY_UPDATE_GOLDEN=1 to create it")
	var gf goldenFile
	require.NoError(t, json.Unmarshal(data, &gf))
	require.Len(t, gf.Cases, len(computed), "golden file is stale: run with WBPAY_UPDATE_GOLDEN=1")
	for i, want := range gf.Cases {
		got := computed[i]
		t.Run(want.Name, func(t *testing.T) {
			assert.Equal(t, want.Name, got.Name)
			assert.Equal(t, want.Fields, got.Fields)
			assert.Equal(t, want.Canonical, got.Canonical)
			assert.Equal(t, want.Sign, got.Sign)
			assert.NoError(t, keys.Verify(pub, []byte(want.Canonical), want.Sign), "golden signature verifies")
		})
	}
}

// FuzzVerify: a garbled body or signature never panics and never verifies;
// the only accepted pairs are the vectors' own.
func FuzzVerify(f *testing.F) {
	vf, _, pub := loadVectors(f)
	genuine := map[string]string{} // canonical → sign
	for _, v := range vf.Vectors {
		genuine[v.Canonical] = v.Sign
		signed := v.Fields.Clone()
		signed[paytree.FSign] = v.Sign
		body, err := paytree.Encode(signed)
		require.NoError(f, err)
		f.Add(body, v.Sign)
		f.Add(body, v.Sign[:len(v.Sign)-2]+"A=")
		f.Add(body, v.Sign+"\n")
		f.Add(bytes.Replace(body, []byte("1000"), []byte("1001"), 1), v.Sign)
	}
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`{"a":"b"}`), "!!!")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		fields, err := paytree.Decode(body)
		if err != nil {
			return
		}
		msg := paytree.Canonical(fields)
		for _, s := range []string{sig, fields[paytree.FSign]} {
			err := keys.Verify(pub, []byte(msg), s)
			if err == nil {
				if want, ok := genuine[msg]; !ok || want != s {
					t.Fatalf("forged pair verified: %q / %q", msg, s)
				}
				continue
			}
			if !errors.Is(err, keys.ErrSignature) {
				t.Fatalf("error does not wrap ErrSignature: %v", err)
			}
		}
	})
}
