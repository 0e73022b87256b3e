package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func flvTag(typ byte, ts uint32, data []byte) []byte {
	n := len(data)
	b := []byte{typ, byte(n >> 16), byte(n >> 8), byte(n), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0}
	b = append(b, data...)
	s := n + 11
	return append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}

func TestReadTags(t *testing.T) {
	stream := []byte{'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0}
	stream = append(stream, flvTag(18, 0, []byte("meta"))...)
	stream = append(stream, flvTag(9, 40, make([]byte, 300))...)
	stream = append(stream, flvTag(8, 0x01000010, []byte{0xaf, 1})...) // extended timestamp
	type got struct {
		TS   uint32
		Size int
	}
	var tags []got
	err := readTags(bufio.NewReader(bytes.NewReader(stream)), func(ts uint32, size int) { tags = append(tags, got{ts, size}) })
	if !errors.Is(err, io.EOF) {
		t.Errorf("readTags at the end = %v, want io.EOF (a live stream should not end)", err)
	}
	want := []got{{40, 300}, {0x01000010, 2}}
	if diff := cmp.Diff(want, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if err := readTags(bufio.NewReader(bytes.NewReader([]byte("HTTP/1.1 200 OK\r\n\r\n"))), func(uint32, int) {}); !errors.Is(err, errNotFLV) {
		t.Errorf("non-FLV = %v, want errNotFLV", err)
	}
}

// FuzzReadTags: any byte stream ends in an error, never a panic, and
// every tag reported fits in the input.
func FuzzReadTags(f *testing.F) {
	f.Add(append([]byte{'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0}, flvTag(9, 40, []byte{0x17, 1})...))
	f.Add([]byte{'F', 'L', 'V', 1, 5, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		err := readTags(bufio.NewReader(bytes.NewReader(b)), func(ts uint32, size int) { total += size + 15 })
		if err == nil {
			t.Fatal("readTags returned nil on a finite stream")
		}
		if total > len(b) {
			t.Fatalf("tags of %d bytes reported from %d bytes of input", total, len(b))
		}
	})
}
