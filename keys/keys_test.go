package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is one 2048-bit key generated per test binary, shared because
// generating one costs a fraction of a second.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := NewKey()
	if err != nil {
		panic(err)
	}
	return k
})

var shortKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

var ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

func pemBytes(t *testing.T, typ string, der []byte, headers map[string]string) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return der
}

func pkix(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	require.NoError(t, err)
	return der
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func TestLoadPrivateFormats(t *testing.T) {
	k := testKey()
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
	}{
		{"PKCS#1", EncodePrivatePEM(k)},
		{"PKCS#8", pemBytes(t, "PRIVATE KEY", pkcs8(t, k), nil)},
		{"PKCS#1 after text", append([]byte("comment line\n"), EncodePrivatePEM(k)...)},
		{"PKCS#1 with CRLF", []byte(strings.ReplaceAll(string(EncodePrivatePEM(k)), "\n", "\r\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.NewReplacer("#", "", " ", "_").Replace(tt.name)+".pem", tt.data)
			got, err := LoadPrivate(p)
			require.NoError(t, err)
			assert.True(t, k.Equal(got))
		})
	}
}

func TestLoadPublicFormats(t *testing.T) {
	k := testKey()
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
	}{
		{"PKCS1", EncodePublicPEM(&k.PublicKey)},
		{"PKIX", pemBytes(t, "PUBLIC KEY", pkix(t, &k.PublicKey), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.name+".pem", tt.data)
			got, err := LoadPublic(p)
			require.NoError(t, err)
			assert.True(t, k.PublicKey.Equal(got))
		})
	}
}

func TestLoadPrivateRefusals(t *testing.T) {
	dir := t.TempDir()
	short := shortKey()
	ec := ecKey()
	ecDER, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	tests := []struct {
		name   string
		data   []byte // nil: no file at all
		reason string
	}{
		{"1024-bit PKCS#1", EncodePrivatePEM(short), "RSA key of 1024 bits is shorter than 2048"},
		{"1024-bit PKCS#8", pemBytes(t, "PRIVATE KEY", pkcs8(t, short), nil), "RSA key of 1024 bits is shorter than 2048"},
		{"EC PKCS#8", pemBytes(t, "PRIVATE KEY", pkcs8(t, ec), nil), "PKCS#8 key is *ecdsa.PrivateKey, not RSA"},
		{"EC SEC1", pemBytes(t, "EC PRIVATE KEY", ecDER, nil), `PEM block "EC PRIVATE KEY" is not a private key`},
		{"public key in the private file", EncodePublicPEM(&testKey().PublicKey), `PEM block "RSA PUBLIC KEY" is not a private key`},
		{"garbage", []byte("this is not a key\x00\xff"), "no PEM block found"},
		{"empty file", []byte{}, "no PEM block found"},
		{"corrupted PKCS#1 DER", pemBytes(t, "RSA PRIVATE KEY", []byte("not DER"), nil), "PKCS#1 private key:"},
		{"corrupted PKCS#8 DER", pemBytes(t, "PRIVATE KEY", []byte("not DER"), nil), "PKCS#8 private key:"},
		{"encrypted PEM", pemBytes(t, "RSA PRIVATE KEY", []byte("x"), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), "encrypted"},
		{"encrypted PKCS#8", pemBytes(t, "ENCRYPTED PRIVATE KEY", []byte("x"), nil), "encrypted"},
		{"missing file", nil, "no such file or directory"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "priv"+string(rune('a'+i))+".pem")
			if tt.data != nil {
				writeFile(t, dir, filepath.Base(p), tt.data)
			}
			k, err := LoadPrivate(p)
			assert.Nil(t, k)
			require.ErrorIs(t, err, ErrKey)
			assert.Contains(t, err.Error(), p, "names the file")
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestLoadPublicRefusals(t *testing.T) {
	dir := t.TempDir()
	short := shortKey()
	tests := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"1024-bit PKCS#1", EncodePublicPEM(&short.PublicKey), "RSA key of 1024 bits is shorter than 2048"},
		{"1024-bit PKIX", pemBytes(t, "PUBLIC KEY", pkix(t, &short.PublicKey), nil), "RSA key of 1024 bits is shorter than 2048"},
		{"EC PKIX", pemBytes(t, "PUBLIC KEY", pkix(t, &ecKey().PublicKey), nil), "PKIX key is *ecdsa.PublicKey, not RSA"},
		{"private key in the public file", EncodePrivatePEM(testKey()), `PEM block "RSA PRIVATE KEY" is not a public key`},
		{"certificate", pemBytes(t, "CERTIFICATE", []byte("x"), nil), `PEM block "CERTIFICATE" is not a public key`},
		{"garbage", []byte("-----BEGIN nothing"), "no PEM block found"},
		{"empty file", []byte{}, "no PEM block found"},
		{"corrupted PKCS#1 DER", pemBytes(t, "RSA PUBLIC KEY", []byte("not DER"), nil), "PKCS#1 public key:"},
		{"corrupted PKIX DER", pemBytes(t, "PUBLIC KEY", []byte("not DER"), nil), "PKIX public key:"},
		{"missing file", nil, "no such file or directory"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "pub"+string(rune('a'+i))+".pem")
			if tt.data != nil {
				writeFile(t, dir, filepath.Base(p), tt.data)
			}
			k, err := LoadPublic(p)
			assert.Nil(t, k)
			require.ErrorIs(t, err, ErrKey)
			assert.Contains(t, err.Error(), p, "names the file")
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestNewPair(t *testing.T) {
	p, err := NewPair()
	require.NoError(t, err)
	assert.Equal(t, MinBits, p.Key.N.BitLen())
	priv, err := ParsePrivatePEM(p.PrivatePEM)
	require.NoError(t, err)
	assert.True(t, p.Key.Equal(priv), "PrivatePEM is the key")
	pub, err := ParsePublicPEM(p.PublicPEM)
	require.NoError(t, err)
	assert.True(t, p.Key.PublicKey.Equal(pub), "PublicPEM is its public half")
}

func TestSignVerify(t *testing.T) {
	k := testKey()
	msg := []byte("amount=1000&remark=返品 %26&signType=RSA")
	sig, err := Sign(k, msg)
	require.NoError(t, err)
	require.NoError(t, Verify(&k.PublicKey, msg, sig))

	again, err := Sign(k, msg)
	require.NoError(t, err)
	assert.Equal(t, sig, again, "PKCS#1 v1.5 signatures are deterministic")

	raw, err := base64.StdEncoding.DecodeString(sig)
	require.NoError(t, err)
	assert.Len(t, raw, MinBits/8)

	flippedSig := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.StdEncoding.EncodeToString(b)
	}
	other, err := rsa.GenerateKey(rand.Reader, MinBits)
	require.NoError(t, err)
	// The last character of a 256-byte signature carries 4 padding bits;
	// setting one must not verify as the same signature.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	require.True(t, strings.HasSuffix(sig, "=="))
	padded := []byte(sig)
	padded[len(padded)-3] = alphabet[strings.IndexByte(alphabet, padded[len(padded)-3])^0x01]
	lenient, err := base64.StdEncoding.DecodeString(string(padded))
	require.NoError(t, err)
	require.Equal(t, raw, lenient, "a lenient decoder reads the same bytes")

	tests := []struct {
		name string
		pub  *rsa.PublicKey
		msg  []byte
		sig  string
		want string
	}{
		{"flipped message byte", &k.PublicKey, append([]byte{msg[0] ^ 0x01}, msg[1:]...), sig, "verification error"},
		{"message with a byte added", &k.PublicKey, append(append([]byte(nil), msg...), ' '), sig, "verification error"},
		{"flipped first signature byte", &k.PublicKey, msg, flippedSig(0), "verification error"},
		{"flipped last signature byte", &k.PublicKey, msg, flippedSig(len(raw) - 1), "verification error"},
		{"truncated signature", &k.PublicKey, msg, base64.StdEncoding.EncodeToString(raw[:len(raw)-1]), "verification error"},
		{"other key", &other.PublicKey, msg, sig, "verification error"},
		{"not base64", &k.PublicKey, msg, "!!!" + sig[3:], "not base64"},
		{"line break", &k.PublicKey, msg, sig[:64] + "\n" + sig[64:], "line break"},
		{"CRLF at the end", &k.PublicKey, msg, sig + "\r\n", "line break"},
		{"padding removed", &k.PublicKey, msg, strings.TrimRight(sig, "="), "not base64"},
		{"non-zero padding bits", &k.PublicKey, msg, string(padded), "not base64"},
		{"empty", &k.PublicKey, msg, "", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sig == sig && tt.pub == &k.PublicKey && string(tt.msg) == string(msg) {
				t.Fatal("case does not garble anything")
			}
			err := Verify(tt.pub, tt.msg, tt.sig)
			require.ErrorIs(t, err, ErrSignature)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	t.Run("nil keys", func(t *testing.T) {
		_, err := Sign(nil, msg)
		assert.ErrorIs(t, err, ErrKey)
		assert.ErrorIs(t, Verify(nil, msg, sig), ErrKey)
	})
}

func TestFingerprint(t *testing.T) {
	k := testKey()
	fp := Fingerprint(&k.PublicKey)
	assert.Regexp(t, `^SHA256:[0-9a-f]{64}$`, fp)

	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	assert.Equal(t, "SHA256:"+hex.EncodeToString(sum[:]), fp, "SHA-256 of the PKIX DER form")

	assert.Equal(t, fp, Fingerprint(&k.PublicKey), "stable")
	for _, data := range [][]byte{EncodePublicPEM(&k.PublicKey), pemBytes(t, "PUBLIC KEY", pkix(t, &k.PublicKey), nil)} {
		pub, err := ParsePublicPEM(data)
		require.NoError(t, err)
		assert.Equal(t, fp, Fingerprint(pub), "same fingerprint whatever the file format")
	}
	priv, err := ParsePrivatePEM(EncodePrivatePEM(k))
	require.NoError(t, err)
	assert.Equal(t, fp, Fingerprint(&priv.PublicKey))
	assert.NotEqual(t, fp, Fingerprint(&shortKey().PublicKey), "different keys differ")
}

func TestErrorsDistinct(t *testing.T) {
	assert.False(t, errors.Is(ErrKey, ErrSignature))
	assert.True(t, strings.HasPrefix(ErrKey.Error(), "keys: "))
	assert.True(t, strings.HasPrefix(ErrSignature.Error(), "keys: "))
}

func TestModeWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not show Windows ACLs")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o644, true}, {0o606, true}} {
		path := filepath.Join(dir, fmt.Sprintf("k%o.pem", tc.mode))
		require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
		require.NoError(t, os.Chmod(path, tc.mode))
		w := ModeWarning(path)
		if tc.warn {
			assert.Contains(t, w, fmt.Sprintf("mode %04o", tc.mode))
			assert.Contains(t, w, path)
		} else {
			assert.Empty(t, w, "mode %04o", tc.mode)
		}
	}
	assert.Empty(t, ModeWarning(filepath.Join(dir, "missing.pem")))
}
