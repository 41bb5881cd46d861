package pushservice

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// Sizes of the aes128gcm header (RFC 8188, section 2.1) as Web Push uses
// it (RFC 8291, section 4): the key id is the sender's ephemeral key.
const (
	saltLen      = 16
	headerLen    = saltLen + 4 + 1 // salt, rs, idlen
	publicKeyLen = 65              // uncompressed P-256 point
	tagLen       = 16
)

// errDecrypt is returned for any body that does not decrypt.
var errDecrypt = errors.New("message does not decrypt")

// decrypt opens a Web Push message body the way a browser does: it is
// written from RFC 8291 and RFC 8188, not from the sender's code, so that
// a round trip tests the sender against the standards.
func decrypt(body []byte, ua *ecdh.PrivateKey, authSecret []byte) ([]byte, error) {
	if len(body) < headerLen {
		return nil, fmt.Errorf("%w: body shorter than the aes128gcm header", errDecrypt)
	}
	salt := body[:saltLen]
	rs := binary.BigEndian.Uint32(body[saltLen : saltLen+4])
	idlen := int(body[saltLen+4])
	if rs < 18 {
		return nil, fmt.Errorf("%w: record size %d below the minimum of 18", errDecrypt, rs)
	}
	if idlen != publicKeyLen || len(body) < headerLen+idlen {
		return nil, fmt.Errorf("%w: key id must be the sender's 65-byte public key, idlen is %d", errDecrypt, idlen)
	}
	asPublic, err := ecdh.P256().NewPublicKey(body[headerLen : headerLen+idlen])
	if err != nil {
		return nil, fmt.Errorf("%w: key id is not a P-256 point: %w", errDecrypt, err)
	}
	record := body[headerLen+idlen:]
	// RFC 8291, section 4: a push message is a single record.
	if len(record) > int(rs) {
		return nil, fmt.Errorf("%w: %d bytes of records exceed one record of %d", errDecrypt, len(record), rs)
	}
	if len(record) < tagLen+1 {
		return nil, fmt.Errorf("%w: record too short", errDecrypt)
	}
	cek, nonce, err := deriveKeys(ua, asPublic, authSecret, salt)
	if err != nil {
		return nil, err
	}
	plain, err := openRecord(cek, nonce, record)
	if err != nil {
		return nil, err
	}
	return unpad(plain)
}

// deriveKeys computes the content encryption key and nonce (RFC 8291,
// section 3.4, then RFC 8188, section 2.2 and 2.3).
func deriveKeys(ua *ecdh.PrivateKey, asPublic *ecdh.PublicKey, authSecret, salt []byte) (cek, nonce []byte, err error) {
	ecdhSecret, err := ua.ECDH(asPublic)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ECDH: %w", errDecrypt, err)
	}
	// key_info = "WebPush: info" || 0x00 || ua_public || as_public
	keyInfo := append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...)
	keyInfo = append(keyInfo, asPublic.Bytes()...)
	ikm, err := hkdfRead(ecdhSecret, authSecret, keyInfo, 32)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdfRead(ikm, salt, []byte("Content-Encoding: aes128gcm\x00"), 16); err != nil {
		return nil, nil, err
	}
	if nonce, err = hkdfRead(ikm, salt, []byte("Content-Encoding: nonce\x00"), 12); err != nil {
		return nil, nil, err
	}
	return cek, nonce, nil
}

// hkdfRead is HKDF-SHA256 (RFC 5869) of secret with salt and info,
// length bytes long.
func hkdfRead(secret, salt, info []byte, length int) ([]byte, error) {
	out := make([]byte, length)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, info), out); err != nil {
		return nil, fmt.Errorf("%w: HKDF: %w", errDecrypt, err)
	}
	return out, nil
}

// openRecord decrypts the single record. Its sequence number is 0, so the
// nonce is used as derived (RFC 8188, section 2.3: nonce XOR seq).
func openRecord(cek, nonce, record []byte) ([]byte, error) {
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecrypt, err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecrypt, err)
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", errDecrypt)
	}
	return plain, nil
}

// unpad removes the padding: the last record ends with the delimiter 0x02
// followed by any number of zeros (RFC 8188, section 2).
func unpad(plain []byte) ([]byte, error) {
	trimmed := bytes.TrimRight(plain, "\x00")
	if len(trimmed) == 0 || trimmed[len(trimmed)-1] != 0x02 {
		return nil, fmt.Errorf("%w: no last-record padding delimiter", errDecrypt)
	}
	return trimmed[:len(trimmed)-1], nil
}
