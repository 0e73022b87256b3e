// Package flv reads and writes the FLV container (Adobe Flash Video File
// Format Specification v10.1, annex E) and parses the audio and video tag
// headers RTMP carries unchanged in its audio and video messages.
//
// It is pure: functions over bytes, no I/O of its own besides the Reader
// and Writer helpers over an io.Reader / io.Writer.
package flv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Tag types (FLV spec E.4.1).
const (
	TagAudio  uint8 = 8
	TagVideo  uint8 = 9
	TagScript uint8 = 18
)

// HeaderSize is the size of the FLV file header plus PreviousTagSize0.
const HeaderSize = 13

// TagHeaderSize is the size of a tag header (E.4.1).
const TagHeaderSize = 11

// MaxTagSize is the largest body a tag's 24-bit DataSize can announce.
const MaxTagSize = 1<<24 - 1

// Errors callers branch on.
var (
	// ErrNotFLV means the stream does not start with the "FLV" signature.
	ErrNotFLV = errors.New("flv: not an FLV stream")
	// ErrShortTag means a tag body is too short for its header fields.
	ErrShortTag = errors.New("flv: tag body too short")
)

// Header returns the 9-byte FLV header followed by PreviousTagSize0. The
// TypeFlags byte declares exactly the tracks given: players such as flv.js
// and mpegts.js wait for every declared track before they start (case C32).
func Header(hasAudio, hasVideo bool) []byte {
	var flags byte
	if hasAudio {
		flags |= 0x04
	}
	if hasVideo {
		flags |= 0x01
	}
	return []byte{'F', 'L', 'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0}
}

// FileHeader is a parsed FLV file header.
type FileHeader struct {
	Version  uint8
	HasAudio bool
	HasVideo bool
}

// ParseHeader parses the first 9 bytes of an FLV stream (E.2).
func ParseHeader(b []byte) (FileHeader, error) {
	if len(b) < 9 || b[0] != 'F' || b[1] != 'L' || b[2] != 'V' {
		return FileHeader{}, ErrNotFLV
	}
	if off := binary.BigEndian.Uint32(b[5:9]); off < 9 {
		return FileHeader{}, fmt.Errorf("flv: header DataOffset %d is below 9: %w", off, ErrNotFLV)
	}
	return FileHeader{Version: b[3], HasAudio: b[4]&0x04 != 0, HasVideo: b[4]&0x01 != 0}, nil
}

// Tag is one FLV tag: its type, its timestamp in milliseconds and its body
// (the tag's data, starting with the audio or video tag header).
type Tag struct {
	Type      uint8
	Timestamp uint32
	Body      []byte
}

// AppendTag appends t as a tag header, body and PreviousTagSize (E.3).
func AppendTag(dst []byte, t Tag) []byte {
	n := len(t.Body)
	dst = append(dst, t.Type,
		byte(n>>16), byte(n>>8), byte(n),
		byte(t.Timestamp>>16), byte(t.Timestamp>>8), byte(t.Timestamp), byte(t.Timestamp>>24),
		0, 0, 0)
	dst = append(dst, t.Body...)
	return binary.BigEndian.AppendUint32(dst, uint32(n+TagHeaderSize))
}

// Reader reads an FLV stream: Header once, then Tag until io.EOF.
type Reader struct {
	R      io.Reader
	header bool
}

// Header reads and parses the file header and skips to the first tag.
func (r *Reader) Header() (FileHeader, error) {
	var b [9]byte
	if _, err := io.ReadFull(r.R, b[:]); err != nil {
		return FileHeader{}, fmt.Errorf("flv: read header: %w", err)
	}
	h, err := ParseHeader(b[:])
	if err != nil {
		return h, err
	}
	skip := int64(binary.BigEndian.Uint32(b[5:9])) - 9 + 4 // rest of header, PreviousTagSize0
	if _, err := io.CopyN(io.Discard, r.R, skip); err != nil {
		return h, fmt.Errorf("flv: read header: %w", err)
	}
	r.header = true
	return h, nil
}

// ReadTags reads every tag of an FLV file held in b.
func ReadTags(b []byte) ([]Tag, error) {
	r := &Reader{R: bytes.NewReader(b)}
	var tags []Tag
	for {
		t, err := r.Tag()
		if errors.Is(err, io.EOF) {
			return tags, nil
		}
		if err != nil {
			return tags, err
		}
		tags = append(tags, t)
	}
}

// Tag reads the next tag. It returns io.EOF at a clean end of stream.
func (r *Reader) Tag() (Tag, error) {
	if !r.header {
		if _, err := r.Header(); err != nil {
			return Tag{}, err
		}
	}
	var h [TagHeaderSize]byte
	if _, err := io.ReadFull(r.R, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Tag{}, io.EOF
		}
		return Tag{}, fmt.Errorf("flv: read tag header: %w", err)
	}
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	t := Tag{
		Type:      h[0] & 0x1f, // the top bits are reserved and the filter flag
		Timestamp: uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6]) | uint32(h[7])<<24,
		Body:      make([]byte, n),
	}
	if _, err := io.ReadFull(r.R, t.Body); err != nil {
		return Tag{}, fmt.Errorf("flv: read tag body: %w", err)
	}
	var prev [4]byte
	if _, err := io.ReadFull(r.R, prev[:]); err != nil {
		return Tag{}, fmt.Errorf("flv: read PreviousTagSize: %w", err)
	}
	return t, nil
}
