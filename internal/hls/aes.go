package hls

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of an AES-128 key and IV.
const KeySize = 16

// ErrDecrypt: a segment does not decrypt with the key: wrong key, wrong IV
// or a cut segment.
var ErrDecrypt = errors.New("segment does not decrypt")

// SequenceIV is the IV of the segment with media sequence number seq when
// EXT-X-KEY has no IV attribute: seq as a 128-bit big-endian integer (RFC
// 8216 §5.2).
func SequenceIV(seq uint64) []byte {
	iv := make([]byte, KeySize)
	binary.BigEndian.PutUint64(iv[8:], seq)
	return iv
}

// EncryptSegment encrypts a whole segment with AES-128 in CBC mode and
// PKCS#7 padding, as METHOD=AES-128 requires (RFC 8216 §4.3.2.4).
func EncryptSegment(key, iv, data []byte) ([]byte, error) {
	if len(key) != KeySize || len(iv) != KeySize {
		return nil, fmt.Errorf("aes-128: key of %d bytes and IV of %d, want %d each", len(key), len(iv), KeySize)
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes-128 key: %w", err)
	}
	pad := KeySize - len(data)%KeySize
	out := make([]byte, len(data)+pad)
	copy(out, data)
	copy(out[len(data):], bytes.Repeat([]byte{byte(pad)}, pad))
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(out, out)
	return out, nil
}

// DecryptSegment reverses EncryptSegment.
func DecryptSegment(key, iv, data []byte) ([]byte, error) {
	if len(key) != KeySize || len(iv) != KeySize {
		return nil, fmt.Errorf("aes-128: key of %d bytes and IV of %d, want %d each", len(key), len(iv), KeySize)
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes-128 key: %w", err)
	}
	if len(data) == 0 || len(data)%KeySize != 0 {
		return nil, fmt.Errorf("%d bytes is not whole AES blocks: %w", len(data), ErrDecrypt)
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > KeySize || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, fmt.Errorf("bad PKCS#7 padding: %w", ErrDecrypt)
	}
	return out[:len(out)-pad], nil
}
