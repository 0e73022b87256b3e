package vod

import (
	"encoding/binary"
	"fmt"
)

// The sample tables and fragment headers are decoded here from their raw
// payloads (ISO/IEC 14496-12 §8.6-8.8, §8.16), rather than by a
// reflection-based box decoder: they are the large boxes of a file, and
// each entry count is checked against the bytes present before anything
// is allocated, so a lying header cannot make the packager allocate
// gigabytes.

// payload is a box payload being decoded; every read is bounds-checked.
type payload struct {
	box string
	b   []byte
	err error
}

func (p *payload) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s box: %s: %w", p.box, fmt.Sprintf(format, args...), ErrMalformed)
	}
}

func (p *payload) u8() uint8 {
	if p.err != nil || len(p.b) < 1 {
		p.fail("cut short")
		return 0
	}
	v := p.b[0]
	p.b = p.b[1:]
	return v
}

func (p *payload) u32() uint32 {
	if p.err != nil || len(p.b) < 4 {
		p.fail("cut short")
		return 0
	}
	v := binary.BigEndian.Uint32(p.b)
	p.b = p.b[4:]
	return v
}

func (p *payload) u64() uint64 {
	if p.err != nil || len(p.b) < 8 {
		p.fail("cut short")
		return 0
	}
	v := binary.BigEndian.Uint64(p.b)
	p.b = p.b[8:]
	return v
}

func (p *payload) skip(n int) {
	if p.err != nil || len(p.b) < n {
		p.fail("cut short")
		return
	}
	p.b = p.b[n:]
}

// fullBox reads a FullBox's version and flags (§4.2).
func (p *payload) fullBox() (version uint8, flags uint32) {
	v := p.u32()
	return uint8(v >> 24), v & 0xffffff
}

// count reads an entry count and checks that count entries of size bytes
// fit in what is left.
func (p *payload) count(size int) int {
	n := p.u32()
	if p.err == nil && uint64(n)*uint64(size) > uint64(len(p.b)) {
		p.fail("%d entries of %d bytes in %d bytes", n, size, len(p.b))
		return 0
	}
	return int(n)
}

// timeToSample is one stts or ctts run.
type timeToSample struct {
	count uint32
	value int64 // delta (stts) or composition offset (ctts)
}

// parseTimeToSample reads stts (§8.6.1.2) or, with ctts set, ctts (§8.6.1.3),
// whose version 0 offsets are read as signed, as players do.
func parseTimeToSample(box string, b []byte, ctts bool) ([]timeToSample, error) {
	p := &payload{box: box, b: b}
	version, _ := p.fullBox()
	n := p.count(8)
	out := make([]timeToSample, n)
	for i := range out {
		out[i].count = p.u32()
		v := p.u32()
		if ctts || version == 1 {
			out[i].value = int64(int32(v))
		} else {
			out[i].value = int64(v)
		}
	}
	return out, p.err
}

// stscEntry is a sample-to-chunk run (§8.7.4).
type stscEntry struct{ firstChunk, samplesPerChunk uint32 }

func parseStsc(b []byte) ([]stscEntry, error) {
	p := &payload{box: "stsc", b: b}
	p.fullBox()
	n := p.count(12)
	out := make([]stscEntry, n)
	for i := range out {
		out[i].firstChunk = p.u32()
		out[i].samplesPerChunk = p.u32()
		p.u32() // sample description index
		if p.err == nil && (out[i].firstChunk == 0 || i > 0 && out[i].firstChunk <= out[i-1].firstChunk) {
			p.fail("entry %d: first chunk %d out of order", i, out[i].firstChunk)
		}
	}
	return out, p.err
}

// parseStsz reads sample sizes (§8.7.3.2); limit bounds the sample count
// when every sample has the same size and no table follows.
func parseStsz(b []byte, limit int) ([]uint32, error) {
	p := &payload{box: "stsz", b: b}
	p.fullBox()
	size := p.u32()
	if size != 0 {
		n := p.u32()
		if p.err == nil && int64(n) > int64(limit) {
			return nil, fmt.Errorf("stsz box: %d samples, more than the %d allowed: %w", n, limit, ErrTooLarge)
		}
		out := make([]uint32, n)
		for i := range out {
			out[i] = size
		}
		return out, p.err
	}
	n := p.count(4)
	out := make([]uint32, n)
	for i := range out {
		out[i] = p.u32()
	}
	return out, p.err
}

// parseChunkOffsets reads stco (32-bit) or co64 (64-bit) (§8.7.5).
func parseChunkOffsets(box string, b []byte) ([]int64, error) {
	p := &payload{box: box, b: b}
	p.fullBox()
	wide := box == "co64"
	size := 4
	if wide {
		size = 8
	}
	n := p.count(size)
	out := make([]int64, n)
	for i := range out {
		if wide {
			out[i] = int64(p.u64() & (1<<63 - 1))
		} else {
			out[i] = int64(p.u32())
		}
	}
	return out, p.err
}

// parseStss reads the sync sample numbers (§8.6.2), 1-based.
func parseStss(b []byte) ([]uint32, error) {
	p := &payload{box: "stss", b: b}
	p.fullBox()
	n := p.count(4)
	out := make([]uint32, n)
	for i := range out {
		out[i] = p.u32()
	}
	return out, p.err
}

// edit is one edit list entry (§8.6.6), in movie (duration) and media
// (mediaTime) timescales; mediaTime -1 is an empty edit.
type edit struct {
	duration  uint64
	mediaTime int64
}

func parseElst(b []byte) ([]edit, error) {
	p := &payload{box: "elst", b: b}
	version, _ := p.fullBox()
	size := 12
	if version == 1 {
		size = 20
	}
	n := p.count(size)
	out := make([]edit, n)
	for i := range out {
		if version == 1 {
			out[i].duration = p.u64()
			out[i].mediaTime = int64(p.u64())
		} else {
			out[i].duration = uint64(p.u32())
			out[i].mediaTime = int64(int32(p.u32()))
		}
		p.u32() // media rate
	}
	return out, p.err
}

// parseMediaHeader reads mvhd (§8.2.2) or mdhd (§8.4.2): the timescale and
// the duration.
func parseMediaHeader(box string, b []byte) (timescale uint32, duration uint64, err error) {
	p := &payload{box: box, b: b}
	version, _ := p.fullBox()
	if version == 1 {
		p.skip(16)
		timescale = p.u32()
		duration = p.u64()
	} else {
		p.skip(8)
		timescale = p.u32()
		duration = uint64(p.u32())
		if duration == 0xffffffff {
			duration = 0 // unknown (§8.2.2.3)
		}
	}
	if p.err == nil && timescale == 0 {
		p.fail("timescale 0")
	}
	return timescale, duration, p.err
}

// parseTkhd reads the track ID (§8.3.2).
func parseTkhd(b []byte) (uint32, error) {
	p := &payload{box: "tkhd", b: b}
	version, _ := p.fullBox()
	if version == 1 {
		p.skip(16)
	} else {
		p.skip(8)
	}
	return p.u32(), p.err
}

// parseHdlr reads the handler type (§8.4.3): "vide", "soun", ...
func parseHdlr(b []byte) (string, error) {
	p := &payload{box: "hdlr", b: b}
	p.fullBox()
	p.skip(4)
	if p.err != nil || len(p.b) < 4 {
		p.fail("cut short")
		return "", p.err
	}
	return string(p.b[:4]), nil
}

// parseMehd reads the fragmented movie's duration (§8.8.2).
func parseMehd(b []byte) (uint64, error) {
	p := &payload{box: "mehd", b: b}
	version, _ := p.fullBox()
	if version == 1 {
		return p.u64(), p.err
	}
	return uint64(p.u32()), p.err
}

// sampleDefaults are a track's fragment defaults (trex §8.8.3, overridden
// by tfhd §8.8.7).
type sampleDefaults struct {
	duration, size, flags uint32
}

func parseTrex(b []byte) (uint32, sampleDefaults, error) {
	p := &payload{box: "trex", b: b}
	p.fullBox()
	id := p.u32()
	p.u32() // sample description index
	d := sampleDefaults{duration: p.u32(), size: p.u32(), flags: p.u32()}
	return id, d, p.err
}

// tfhd flags (§8.8.7.1).
const (
	tfhdBaseDataOffset  = 0x000001
	tfhdDescIndex       = 0x000002
	tfhdDefaultDuration = 0x000008
	tfhdDefaultSize     = 0x000010
	tfhdDefaultFlags    = 0x000020
	tfhdDefaultBaseMoof = 0x020000
)

// trackFragmentHeader is a parsed tfhd.
type trackFragmentHeader struct {
	trackID        uint32
	baseDataOffset int64
	hasBaseOffset  bool
	baseIsMoof     bool
	defaults       sampleDefaults
	has            uint32 // which defaults tfhd sets: tfhdDefault* bits
}

func parseTfhd(b []byte) (trackFragmentHeader, error) {
	p := &payload{box: "tfhd", b: b}
	_, flags := p.fullBox()
	h := trackFragmentHeader{trackID: p.u32(), baseIsMoof: flags&tfhdDefaultBaseMoof != 0, has: flags}
	if flags&tfhdBaseDataOffset != 0 {
		h.baseDataOffset, h.hasBaseOffset = int64(p.u64()&(1<<63-1)), true
	}
	if flags&tfhdDescIndex != 0 {
		p.u32()
	}
	if flags&tfhdDefaultDuration != 0 {
		h.defaults.duration = p.u32()
	}
	if flags&tfhdDefaultSize != 0 {
		h.defaults.size = p.u32()
	}
	if flags&tfhdDefaultFlags != 0 {
		h.defaults.flags = p.u32()
	}
	return h, p.err
}

// parseTfdt reads the fragment's base media decode time (§8.8.12).
func parseTfdt(b []byte) (uint64, error) {
	p := &payload{box: "tfdt", b: b}
	version, _ := p.fullBox()
	if version == 1 {
		return p.u64(), p.err
	}
	return uint64(p.u32()), p.err
}

// trun flags (§8.8.8.1).
const (
	trunDataOffset = 0x000001
	trunFirstFlags = 0x000004
	trunDuration   = 0x000100
	trunSize       = 0x000200
	trunFlags      = 0x000400
	trunCTO        = 0x000800
)

// trunEntry is one sample of a track run; has says which fields were
// present.
type trunEntry struct {
	duration, size, flags uint32
	cto                   int32
}

type trackRun struct {
	dataOffset    int32
	hasDataOffset bool
	firstFlags    uint32
	hasFirstFlags bool
	flags         uint32
	entries       []trunEntry
}

func parseTrun(b []byte) (trackRun, error) {
	p := &payload{box: "trun", b: b}
	_, flags := p.fullBox()
	r := trackRun{flags: flags}
	size := 0
	for _, f := range []uint32{trunDuration, trunSize, trunFlags, trunCTO} {
		if flags&f != 0 {
			size += 4
		}
	}
	n := p.u32()
	if flags&trunDataOffset != 0 {
		r.dataOffset, r.hasDataOffset = int32(p.u32()), true
	}
	if flags&trunFirstFlags != 0 {
		r.firstFlags, r.hasFirstFlags = p.u32(), true
	}
	if p.err != nil {
		return r, p.err
	}
	// With no per-sample field, n samples take no bytes: bound n by the
	// largest sample count the packager accepts at all.
	if size > 0 && uint64(n)*uint64(size) > uint64(len(p.b)) || size == 0 && n > maxRunSamples {
		p.fail("%d samples of %d bytes in %d bytes", n, size, len(p.b))
		return r, p.err
	}
	r.entries = make([]trunEntry, n)
	for i := range r.entries {
		e := &r.entries[i]
		if flags&trunDuration != 0 {
			e.duration = p.u32()
		}
		if flags&trunSize != 0 {
			e.size = p.u32()
		}
		if flags&trunFlags != 0 {
			e.flags = p.u32()
		}
		if flags&trunCTO != 0 {
			// Unsigned in version 0, signed in version 1; read as
			// signed either way, as players do.
			e.cto = int32(p.u32())
		}
	}
	return r, p.err
}

// maxRunSamples bounds a track run whose samples all take the defaults.
const maxRunSamples = 1 << 20
