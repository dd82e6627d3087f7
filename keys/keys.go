package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA1withRSA is fixed by the wire contract.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// MinBits is the shortest RSA modulus accepted (contract section 2).
const MinBits = 2048

// LoadPrivate reads and parses the private key file at path.
func LoadPrivate(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: private key %s: %v", ErrKey, path, err)
	}
	k, err := ParsePrivatePEM(data)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return k, nil
}

// LoadPublic reads and parses the public key file at path.
func LoadPublic(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: public key %s: %v", ErrKey, path, err)
	}
	k, err := ParsePublicPEM(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// ParsePrivatePEM parses the first PEM block of data as a PKCS#1 or PKCS#8
// RSA private key of at least MinBits.
func ParsePrivatePEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: the private key is encrypted; a passphrase-free key is needed", ErrKey)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#1 private key: %v", ErrKey, err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#8 private key: %v", ErrKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: PKCS#8 key is %T, not RSA", ErrKey, k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key (want RSA PRIVATE KEY or PRIVATE KEY)", ErrKey, block.Type)
	}
	if bits := key.N.BitLen(); bits < MinBits {
		return nil, fmt.Errorf("%w: RSA key of %d bits is shorter than %d", ErrKey, bits, MinBits)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	key.Precompute()
	return key, nil
}

// ParsePublicPEM parses the first PEM block of data as a PKCS#1 or PKIX RSA
// public key of at least MinBits.
func ParsePublicPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	var key *rsa.PublicKey
	switch block.Type {
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#1 public key: %v", ErrKey, err)
		}
		key = k
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKIX public key: %v", ErrKey, err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: PKIX key is %T, not RSA", ErrKey, k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a public key (want RSA PUBLIC KEY or PUBLIC KEY)", ErrKey, block.Type)
	}
	if bits := key.N.BitLen(); bits < MinBits {
		return nil, fmt.Errorf("%w: RSA key of %d bits is shorter than %d", ErrKey, bits, MinBits)
	}
	return key, nil
}

// EncodePrivatePEM writes key as a PKCS#1 "RSA PRIVATE KEY" PEM block.
func EncodePrivatePEM(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// EncodePublicPEM writes key as a PKCS#1 "RSA PUBLIC KEY" PEM block.
func EncodePublicPEM(key *rsa.PublicKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(key)})
}

// NewKey returns a fresh RSA key of MinBits.
func NewKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, MinBits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return k, nil
}

// Pair is a fresh key pair with its PEM encodings, for the caller to
// write (layout.WriteKeyPair writes them atomically, the private one with
// mode 0600).
type Pair struct {
	Key        *rsa.PrivateKey
	PrivatePEM []byte // EncodePrivatePEM(Key)
	PublicPEM  []byte // EncodePublicPEM(&Key.PublicKey)
}

// NewPair makes a new key of MinBits and encodes both halves as PEM. It
// writes nothing.
func NewPair() (Pair, error) {
	k, err := NewKey()
	if err != nil {
		return Pair{}, err
	}
	return Pair{Key: k, PrivatePEM: EncodePrivatePEM(k), PublicPEM: EncodePublicPEM(&k.PublicKey)}, nil
}

// Sign returns the SHA1withRSA signature of msg as standard base64.
func Sign(key *rsa.PrivateKey, msg []byte) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: no private key", ErrKey)
	}
	h := sha1.Sum(msg) //nolint:gosec
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA1, h[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks that sig (standard base64) is the SHA1withRSA signature of
// msg under key; it returns an error wrapping ErrSignature otherwise.
func Verify(key *rsa.PublicKey, msg []byte, sig string) error {
	if key == nil {
		return fmt.Errorf("%w: no public key", ErrKey)
	}
	if sig == "" {
		return fmt.Errorf("%w: missing", ErrSignature)
	}
	// Only the canonical form is accepted: the decoder would otherwise skip
	// line breaks and ignore non-zero padding bits, so that many strings
	// would verify as one signature.
	if strings.ContainsAny(sig, "\r\n") {
		return fmt.Errorf("%w: not base64: contains a line break", ErrSignature)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: not base64: %v", ErrSignature, err)
	}
	h := sha1.Sum(msg) //nolint:gosec
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA1, h[:], raw); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// Fingerprint returns "SHA256:" and the hex SHA-256 of key's PKIX DER form,
// the value to read out to CPS when registering the key.
func Fingerprint(key *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}
