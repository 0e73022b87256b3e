package cachestore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"time"
)

// An entry file is laid out as:
//
//	[fixed header: headerSize bytes]
//	[key: keyLen bytes]
//	[metadata: metaLen bytes of JSON]
//	[body: bodyLen bytes]
//	[block table: one little-endian CRC32C per blockSize bytes of body]
//
// The fixed header (little endian):
//
//	 0  magic     "SCE1"
//	 4  version   uint16
//	 6  flags     uint16 (zero)
//	 8  keyLen    uint32
//	12  metaLen   uint32
//	16  bodyLen   uint64
//	24  gen       uint64  store-wide write generation; the newest wins
//	32  blockSize uint32
//	36  metaCRC   uint32  CRC32C of the metadata
//	40  tableCRC  uint32  CRC32C of the block table
//	44  reserved  (zero)
//	60  headerCRC uint32  CRC32C of bytes 0..59 followed by the key
//
// The block table comes after the body because a streamed body's length is
// only known at the end; the fixed header is written last, at Commit.
const (
	headerSize    = 64
	formatVersion = 1
	// blockSize is the unit of lazy body verification: a ReadAt checks the
	// CRCs of only the blocks it touches.
	blockSize = 64 << 10
	// maxKeyLen and maxMetaLen bound what a header may claim, so a corrupt
	// header cannot make a reader allocate gigabytes.
	maxKeyLen  = 64 << 10
	maxMetaLen = 4 << 20
	// maxBodyLen bounds a header's body length (1 PiB).
	maxBodyLen = 1 << 50
	// maxExtra bounds Meta.Extra, as documented there.
	maxExtra = 4 << 10
)

var magic = [4]byte{'S', 'C', 'E', '1'}

// castagnoli is the CRC32C table; the hardware instruction makes it fast.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the CRC32C (Castagnoli) of b.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// errBadHeader reports an entry file whose header cannot be trusted.
var errBadHeader = errors.New("cachestore: bad entry header")

// entryHeader is the decoded fixed header of an entry file.
type entryHeader struct {
	KeyLen, MetaLen   uint32
	BodyLen           uint64
	Gen               uint64
	BlockSize         uint32
	MetaCRC, TableCRC uint32
}

// numBlocks is how many block CRCs the table holds.
func (h entryHeader) numBlocks() int64 {
	return int64((h.BodyLen + uint64(h.BlockSize) - 1) / uint64(h.BlockSize))
}

func (h entryHeader) metaOff() int64  { return headerSize + int64(h.KeyLen) }
func (h entryHeader) bodyOff() int64  { return h.metaOff() + int64(h.MetaLen) }
func (h entryHeader) tableOff() int64 { return h.bodyOff() + int64(h.BodyLen) }

// fileSize is the exact length of a complete entry file.
func (h entryHeader) fileSize() int64 { return h.tableOff() + 4*h.numBlocks() }

// encodeHeader returns the fixed header followed by the key.
func encodeHeader(h entryHeader, key string) []byte {
	b := make([]byte, headerSize, headerSize+len(key))
	copy(b[0:4], magic[:])
	binary.LittleEndian.PutUint16(b[4:], formatVersion)
	binary.LittleEndian.PutUint32(b[8:], h.KeyLen)
	binary.LittleEndian.PutUint32(b[12:], h.MetaLen)
	binary.LittleEndian.PutUint64(b[16:], h.BodyLen)
	binary.LittleEndian.PutUint64(b[24:], h.Gen)
	binary.LittleEndian.PutUint32(b[32:], h.BlockSize)
	binary.LittleEndian.PutUint32(b[36:], h.MetaCRC)
	binary.LittleEndian.PutUint32(b[40:], h.TableCRC)
	b = append(b, key...)
	crc := crc32.Update(crc32.Checksum(b[:60], castagnoli), castagnoli, b[headerSize:])
	binary.LittleEndian.PutUint32(b[60:], crc)
	return b
}

// decodeHeader parses and checks the fixed header and the key at the start
// of b. If b is too short to hold the key the header claims, it returns the
// header with errShortHeader, so the caller can read more and retry.
func decodeHeader(b []byte) (entryHeader, string, error) {
	var h entryHeader
	if len(b) < headerSize {
		return h, "", fmt.Errorf("%w: %d bytes, want at least %d", errBadHeader, len(b), headerSize)
	}
	if [4]byte(b[0:4]) != magic {
		return h, "", fmt.Errorf("%w: bad magic %q", errBadHeader, b[0:4])
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != formatVersion {
		return h, "", fmt.Errorf("%w: version %d, want %d", errBadHeader, v, formatVersion)
	}
	if f := binary.LittleEndian.Uint16(b[6:]); f != 0 {
		return h, "", fmt.Errorf("%w: unknown flags %#x", errBadHeader, f)
	}
	h.KeyLen = binary.LittleEndian.Uint32(b[8:])
	h.MetaLen = binary.LittleEndian.Uint32(b[12:])
	h.BodyLen = binary.LittleEndian.Uint64(b[16:])
	h.Gen = binary.LittleEndian.Uint64(b[24:])
	h.BlockSize = binary.LittleEndian.Uint32(b[32:])
	h.MetaCRC = binary.LittleEndian.Uint32(b[36:])
	h.TableCRC = binary.LittleEndian.Uint32(b[40:])
	for _, c := range b[44:60] {
		if c != 0 {
			return h, "", fmt.Errorf("%w: reserved bytes set", errBadHeader)
		}
	}
	switch {
	case h.KeyLen > maxKeyLen:
		return h, "", fmt.Errorf("%w: key length %d", errBadHeader, h.KeyLen)
	case h.MetaLen > maxMetaLen:
		return h, "", fmt.Errorf("%w: metadata length %d", errBadHeader, h.MetaLen)
	case h.BodyLen > maxBodyLen:
		return h, "", fmt.Errorf("%w: body length %d", errBadHeader, h.BodyLen)
	case h.BlockSize != blockSize:
		return h, "", fmt.Errorf("%w: block size %d", errBadHeader, h.BlockSize)
	}
	end := headerSize + int(h.KeyLen)
	if len(b) < end {
		return h, "", errShortHeader
	}
	crc := crc32.Update(crc32.Checksum(b[:60], castagnoli), castagnoli, b[headerSize:end])
	if want := binary.LittleEndian.Uint32(b[60:]); crc != want {
		return h, "", fmt.Errorf("%w: header checksum %08x, want %08x", errBadHeader, crc, want)
	}
	return h, string(b[headerSize:end]), nil
}

// errShortHeader asks the caller of decodeHeader for more bytes.
var errShortHeader = errors.New("cachestore: header needs more bytes")

// storedMeta is Meta as encoded in an entry file. JSON keeps header field
// names and every value of a multi-valued field exactly as given.
type storedMeta struct {
	Status       int                 `json:"status"`
	Header       map[string][]string `json:"header,omitempty"`
	RequestTime  time.Time           `json:"request_time"`
	ResponseTime time.Time           `json:"response_time"`
	Extra        []byte              `json:"extra,omitempty"`
}

func encodeMeta(m Meta) ([]byte, error) {
	b, err := json.Marshal(storedMeta{
		Status:       m.Status,
		Header:       m.Header,
		RequestTime:  m.RequestTime,
		ResponseTime: m.ResponseTime,
		Extra:        m.Extra,
	})
	if err != nil {
		return nil, fmt.Errorf("cachestore: encode metadata: %w", err)
	}
	if len(b) > maxMetaLen {
		return nil, fmt.Errorf("cachestore: metadata of %d bytes exceeds %d: %w", len(b), maxMetaLen, ErrTooLarge)
	}
	return b, nil
}

func decodeMeta(b []byte) (Meta, error) {
	var sm storedMeta
	if err := json.Unmarshal(b, &sm); err != nil {
		return Meta{}, fmt.Errorf("cachestore: decode metadata: %w", err)
	}
	return Meta{
		Status:       sm.Status,
		Header:       http.Header(sm.Header),
		RequestTime:  sm.RequestTime,
		ResponseTime: sm.ResponseTime,
		Extra:        sm.Extra,
	}, nil
}

// cloneMeta returns a deep copy, so a caller that edits its Meta (or the
// Header of an Entry it got) never changes what is stored.
func cloneMeta(m Meta) Meta {
	m.Header = m.Header.Clone()
	if m.Extra != nil {
		m.Extra = append([]byte(nil), m.Extra...)
	}
	return m
}

// metaCost estimates the memory a Meta occupies, for the memory tier's
// accounting.
func metaCost(m Meta) int64 {
	n := int64(128 + len(m.Extra))
	for k, vs := range m.Header {
		n += int64(len(k)) + 32
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return n
}
