// Package keys loads, generates and uses the RSA keys of the wire contract
// (section 2): the client's private key signs each request, the gateway's
// public key verifies each answer.
//
// Formats: private keys as PEM "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY"
// (PKCS#8); public keys as PEM "RSA PUBLIC KEY" (PKCS#1) or "PUBLIC KEY"
// (PKIX). Keys that are not RSA or shorter than 2048 bits are refused with an
// error wrapping ErrKey that names the file and the reason.
//
// NewPair makes a new pair and returns it with its PEM encodings; keys
// writes no file (it imports nothing of the project): the caller writes
// them, atomically, with layout.WriteKeyPair (the private file with mode
// 0600, never replacing an existing file, so a crash leaves either no key
// or a whole one). Parse keys once at start-up:
// signing costs about a millisecond, reading PEM files per request more.
//
// Signatures are RSASSA-PKCS1-v1_5 over SHA-1, written as standard base64
// with padding (SHA1withRSA).
package keys
