package vod

import (
	"bytes"
	"errors"
	"fmt"

	mp4 "github.com/abema/go-mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// Kind is what a track carries.
type Kind string

// Track kinds, from the track's handler (ISO/IEC 14496-12 §8.4.3).
const (
	KindVideo Kind = "video"
	KindAudio Kind = "audio"
	KindOther Kind = "other"
)

// Codec names in reports. Other codecs are named by their sample entry
// type ("vp09", "Opus", "ac-3").
const (
	CodecH264 = "h264"
	CodecH265 = "h265"
	CodecAAC  = "aac"
	CodecMP3  = "mp3"
)

// Limits on what is read into memory: the sample index costs about 40
// bytes a sample; media data is never held beyond one segment.
const (
	DefaultMaxSamples = 8 << 20   // 8 Mi samples: some 27 h of 25 fps video + 48 kHz AAC
	maxTableBox       = 256 << 20 // a sample table box
	maxConfigBox      = 1 << 20   // a sample entry or decoder configuration
)

// sample is one sample of a track: where its bytes are and when it
// decodes, in the track's timescale as the file says.
type sample struct {
	off  int64
	size uint32
	dur  uint32
	dts  int64
	cto  int32
	sync bool
}

// track is one track of the input and its sample index.
type track struct {
	id        uint32
	kind      Kind
	codec     string
	timescale uint32
	samples   []sample
	// shift is added to every sample's times (track timescale) to put it
	// on the movie's presentation timeline: the edit list's leading empty
	// edits, less its first media time (§8.6.6).
	shift int64
	edits int // entries of the edit list that are not empty edits

	// Decoder configuration.
	lengthSize    int      // NAL unit length prefix, video
	paramSets     [][]byte // SPS/PPS (VPS/SPS/PPS), video
	asc           *mpeg4audio.AudioSpecificConfig
	width, height int
	sampleRate    int
	channels      int
	descriptions  int // sample descriptions in stsd
}

// supported says whether the packager can carry the track.
func (t *track) supported() bool {
	switch t.codec {
	case CodecH264, CodecH265:
		return t.lengthSize > 0
	case CodecAAC:
		return t.asc != nil
	case CodecMP3:
		return true
	}
	return false
}

// movie is the parsed input.
type movie struct {
	fragmented bool
	timescale  uint32
	declared   uint64 // mvhd or mehd duration, movie timescale; 0 unknown
	tracks     []*track
}

// trakBoxes collects a trak's boxes until the trak is complete.
type trakBoxes struct {
	t        *track
	movieTS  uint32
	edits    []edit
	stts     []timeToSample
	ctts     []timeToSample
	stsc     []stscEntry
	stsz     []uint32
	chunks   []int64
	stss     []uint32
	haveStss bool
}

// walker reads a file's box structure with go-mp4 and builds the movie.
type walker struct {
	r          *blockReader
	m          *movie
	maxSamples int
	total      int // samples indexed so far

	trak     *trakBoxes
	byID     map[uint32]*track
	defaults map[uint32]sampleDefaults

	// The fragment being read.
	moofOffset  int64
	trafIndex   int
	traf        *trafState
	lastDataEnd int64 // where the previous traf's data ended
}

// trafState collects a traf's boxes.
type trafState struct {
	header      trackFragmentHeader
	haveHeader  bool
	baseTime    uint64
	haveTime    bool
	base        int64 // the base data offset of the traf's runs
	nextDataOff int64 // where the next run's data starts without a data offset
	timeUsed    bool  // baseTime went to the traf's first run
}

// readMovie parses the box structure of r: moov, and every moof of a
// fragmented file. mdat payloads are skipped, never read.
func readMovie(r *blockReader, maxSamples int) (m *movie, err error) {
	if maxSamples <= 0 {
		maxSamples = DefaultMaxSamples
	}
	w := &walker{r: r, m: &movie{}, maxSamples: maxSamples, byID: map[uint32]*track{}, defaults: map[uint32]sampleDefaults{}}
	// go-mp4 decodes some boxes by reflection; a malformed box it does
	// not guard against must fail this input, not the process.
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("box parser: %v: %w", p, ErrMalformed)
		}
	}()
	if _, err := mp4.ReadBoxStructure(r, w.handle); err != nil {
		if r.err != nil {
			return nil, r.err // the source failed, not the file
		}
		if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("%v: %w", err, ErrMalformed)
	}
	if w.m.timescale == 0 {
		return nil, fmt.Errorf("no moov box with a movie header: not an MP4 file: %w", ErrMalformed)
	}
	return w.m, nil
}

// limitError: a box too large to read into memory.
type limitError struct{ box string }

func (e *limitError) Error() string {
	return fmt.Sprintf("%s box too large to read", e.box)
}

func (e *limitError) Unwrap() error { return ErrTooLarge }

// data reads the payload of the current box, at most limit bytes.
func (w *walker) data(h *mp4.ReadHandle, limit uint64) ([]byte, error) {
	bi := h.BoxInfo
	if bi.Size-bi.HeaderSize > limit {
		return nil, &limitError{box: bi.Type.String()}
	}
	var buf bytes.Buffer
	buf.Grow(int(bi.Size - bi.HeaderSize))
	if _, err := h.ReadData(&buf); err != nil {
		if w.r.err != nil {
			return nil, w.r.err
		}
		return nil, fmt.Errorf("%s box: %v: %w", bi.Type, err, ErrMalformed)
	}
	return buf.Bytes(), nil
}

// handle is go-mp4's callback for each box.
func (w *walker) handle(h *mp4.ReadHandle) (any, error) {
	typ := h.BoxInfo.Type.String()
	parent := ""
	if n := len(h.Path); n >= 2 {
		parent = h.Path[n-2].String()
	}
	depth := len(h.Path)
	switch {
	case depth == 1 && typ == "moov", depth == 2 && parent == "moov" && typ == "mvex",
		parent == "trak" && typ == "mdia", parent == "trak" && typ == "edts",
		parent == "mdia" && typ == "minf", parent == "minf" && typ == "stbl",
		parent == "stbl" && typ == "stsd":
		_, err := h.Expand()
		return nil, err
	case depth == 2 && parent == "moov" && typ == "trak":
		return nil, w.readTrak(h)
	case depth == 1 && typ == "moof":
		return nil, w.readMoof(h)
	case parent == "moof" && typ == "traf":
		return nil, w.readTraf(h)
	case parent == "stsd":
		return nil, w.readSampleEntry(h, typ)
	case parent == "avc1" || parent == "avc3" || parent == "hvc1" || parent == "hev1" || parent == "mp4a":
		return nil, w.readCodecConfig(h, typ)
	case parent == "traf":
		return nil, w.readTrafChild(h, typ)
	}
	return nil, w.readLeaf(h, typ, parent)
}

// readLeaf reads the header and sample table boxes.
func (w *walker) readLeaf(h *mp4.ReadHandle, typ, parent string) error {
	var (
		b   []byte
		err error
	)
	if want, ok := leafParent[typ]; !ok || want != parent {
		return nil
	}
	if b, err = w.data(h, maxTableBox); err != nil {
		return err
	}
	tb := w.trak
	if parent == "moov" || parent == "mvex" {
		tb = nil
	} else if tb == nil {
		return nil
	}
	switch typ {
	case "mvhd":
		if parent == "moov" {
			w.m.timescale, w.m.declared, err = parseMediaHeader(typ, b)
		}
	case "mehd":
		if parent == "mvex" {
			var d uint64
			if d, err = parseMehd(b); err == nil && d > 0 {
				w.m.declared = d
			}
		}
	case "trex":
		if parent == "mvex" {
			var id uint32
			var d sampleDefaults
			if id, d, err = parseTrex(b); err == nil {
				w.defaults[id] = d
			}
		}
	case "tkhd":
		tb.t.id, err = parseTkhd(b)
	case "mdhd":
		tb.t.timescale, _, err = parseMediaHeader(typ, b)
	case "hdlr":
		var hd string
		if hd, err = parseHdlr(b); err == nil && parent == "mdia" {
			switch hd {
			case "vide":
				tb.t.kind = KindVideo
			case "soun":
				tb.t.kind = KindAudio
			}
		}
	case "elst":
		tb.edits, err = parseElst(b)
	case "stts":
		tb.stts, err = parseTimeToSample(typ, b, false)
	case "ctts":
		tb.ctts, err = parseTimeToSample(typ, b, true)
	case "stsc":
		tb.stsc, err = parseStsc(b)
	case "stsz":
		tb.stsz, err = parseStsz(b, w.maxSamples)
	case "stco", "co64":
		tb.chunks, err = parseChunkOffsets(typ, b)
	case "stss":
		tb.stss, err = parseStss(b)
		tb.haveStss = true
	}
	return err
}

// leafParent names the boxes readLeaf decodes and the box each must be in.
var leafParent = map[string]string{
	"mvhd": "moov", "mehd": "mvex", "trex": "mvex", "tkhd": "trak", "mdhd": "mdia", "hdlr": "mdia", "elst": "edts",
	"stts": "stbl", "ctts": "stbl", "stsc": "stbl", "stsz": "stbl", "stco": "stbl", "co64": "stbl", "stss": "stbl",
}

// readTrak reads one track's boxes and builds its sample index.
func (w *walker) readTrak(h *mp4.ReadHandle) error {
	tb := &trakBoxes{t: &track{kind: KindOther}, movieTS: w.m.timescale}
	w.trak = tb
	_, err := h.Expand()
	w.trak = nil
	if err != nil {
		return err
	}
	t := tb.t
	if t.timescale == 0 {
		return fmt.Errorf("track %d has no media header: %w", t.id, ErrMalformed)
	}
	if _, dup := w.byID[t.id]; dup {
		return fmt.Errorf("two tracks with ID %d: %w", t.id, ErrMalformed)
	}
	if err := tb.buildSamples(w.maxSamples - w.total); err != nil {
		return fmt.Errorf("track %d: %w", t.id, err)
	}
	w.total += len(t.samples)
	tb.applyEdits()
	w.byID[t.id] = t
	w.m.tracks = append(w.m.tracks, t)
	return nil
}

// readSampleEntry notes the codec of the first sample description and
// reads its configuration.
func (w *walker) readSampleEntry(h *mp4.ReadHandle, typ string) error {
	tb := w.trak
	if tb == nil {
		return nil
	}
	tb.t.descriptions++
	if tb.t.descriptions > 1 {
		return nil // only the first description is used
	}
	tb.t.codec = typ
	switch typ {
	case "avc1", "avc3", "hvc1", "hev1", "mp4a":
	case ".mp3":
		tb.t.codec = CodecMP3
		return nil
	default:
		return nil
	}
	if h.BoxInfo.Size-h.BoxInfo.HeaderSize > maxConfigBox {
		return &limitError{box: typ}
	}
	if !h.BoxInfo.IsSupportedType() {
		return nil
	}
	if typ == "avc3" {
		return nil // go-mp4 does not decode avc3: left unsupported
	}
	box, _, err := h.ReadPayload()
	if err != nil {
		return fmt.Errorf("%s sample entry: %v: %w", typ, err, ErrMalformed)
	}
	switch e := box.(type) {
	case *mp4.VisualSampleEntry:
		tb.t.width, tb.t.height = int(e.Width), int(e.Height)
	case *mp4.AudioSampleEntry:
		tb.t.sampleRate, tb.t.channels = int(e.SampleRate>>16), int(e.ChannelCount)
	}
	if _, err := h.Expand(); err != nil {
		return fmt.Errorf("%s sample entry: %v: %w", typ, err, ErrMalformed)
	}
	return nil
}

// readCodecConfig reads avcC, hvcC, esds and the sample entry's own fields.
func (w *walker) readCodecConfig(h *mp4.ReadHandle, typ string) error {
	tb := w.trak
	if tb == nil || tb.t.descriptions > 1 {
		return nil
	}
	switch typ {
	case "avcC", "hvcC", "esds":
	default:
		return nil
	}
	if h.BoxInfo.Size-h.BoxInfo.HeaderSize > maxConfigBox {
		return &limitError{box: typ}
	}
	box, _, err := h.ReadPayload()
	if err != nil {
		return fmt.Errorf("%s box: %v: %w", typ, err, ErrMalformed)
	}
	t := tb.t
	switch c := box.(type) {
	case *mp4.AVCDecoderConfiguration:
		t.codec = CodecH264
		t.lengthSize = int(c.LengthSizeMinusOne) + 1
		for _, ps := range c.SequenceParameterSets {
			t.paramSets = append(t.paramSets, ps.NALUnit)
		}
		for _, ps := range c.PictureParameterSets {
			t.paramSets = append(t.paramSets, ps.NALUnit)
		}
	case *mp4.HvcC:
		t.codec = CodecH265
		t.lengthSize = int(c.LengthSizeMinusOne) + 1
		// VPS, SPS, PPS: the order a decoder needs them in.
		for _, want := range []uint8{32, 33, 34} {
			for _, a := range c.NaluArrays {
				if a.NaluType == want {
					for _, n := range a.Nalus {
						t.paramSets = append(t.paramSets, n.NALUnit)
					}
				}
			}
		}
	case *mp4.Esds:
		readEsds(t, c)
	}
	return nil
}

// readEsds names the audio codec from the ES descriptor (ISO/IEC 14496-1
// §7.2.6.6): object type 0x40 is MPEG-4 audio (AAC, whose
// AudioSpecificConfig follows), 0x69 and 0x6b MPEG-2 and MPEG-1 audio.
func readEsds(t *track, e *mp4.Esds) {
	var oti byte
	var dsi []byte
	for _, d := range e.Descriptors {
		switch {
		case d.Tag == mp4.DecoderConfigDescrTag && d.DecoderConfigDescriptor != nil:
			oti = d.DecoderConfigDescriptor.ObjectTypeIndication
		case d.Tag == mp4.DecSpecificInfoTag:
			dsi = d.Data
		}
	}
	switch oti {
	case 0x40, 0x66, 0x67, 0x68:
		var c mpeg4audio.AudioSpecificConfig
		if err := c.Unmarshal(dsi); err == nil {
			t.codec, t.asc = CodecAAC, &c
			t.sampleRate = c.SampleRate
			if c.ChannelConfig > 0 {
				t.channels = int(c.ChannelConfig)
			}
		} else {
			t.codec = "aac (unreadable AudioSpecificConfig)"
		}
	case 0x69, 0x6b:
		t.codec = CodecMP3
	default:
		t.codec = fmt.Sprintf("mp4a object type 0x%02x", oti)
	}
}

// buildSamples turns a progressive track's sample tables into its sample
// index (§8.7): sizes from stsz, times from stts and ctts, offsets from
// stsc and the chunk offsets, sync samples from stss (all, without it).
func (tb *trakBoxes) buildSamples(room int) error {
	n := len(tb.stsz)
	if n == 0 {
		return nil // an empty track, or a fragmented file's
	}
	if n > room {
		return fmt.Errorf("%d samples, more than the %d allowed: %w", n, room, ErrTooLarge)
	}
	s := make([]sample, n)
	// Times.
	i := 0
	var dts int64
	for _, e := range tb.stts {
		for c := uint32(0); c < e.count && i < n; c++ {
			s[i].dts, s[i].dur = dts, uint32(e.value)
			dts += e.value
			i++
		}
	}
	if i < n {
		return fmt.Errorf("stts gives times for %d of %d samples: %w", i, n, ErrMalformed)
	}
	i = 0
	for _, e := range tb.ctts {
		for c := uint32(0); c < e.count && i < n; c++ {
			s[i].cto = int32(e.value)
			i++
		}
	}
	// Offsets.
	i = 0
	for k, e := range tb.stsc {
		last := len(tb.chunks)
		if k+1 < len(tb.stsc) {
			last = min(last, int(tb.stsc[k+1].firstChunk-1))
		}
		for c := int(e.firstChunk - 1); c < last && i < n; c++ {
			off := tb.chunks[c]
			for j := uint32(0); j < e.samplesPerChunk && i < n; j++ {
				s[i].off = off
				off += int64(tb.stsz[i])
				i++
			}
		}
	}
	if i < n {
		return fmt.Errorf("chunk tables place %d of %d samples: %w", i, n, ErrMalformed)
	}
	for i := range s {
		s[i].size = tb.stsz[i]
		s[i].sync = !tb.haveStss
	}
	for _, num := range tb.stss {
		if num >= 1 && int(num) <= n {
			s[num-1].sync = true
		}
	}
	tb.t.samples = s
	return nil
}

// applyEdits reads the edit list (§8.6.6): leading empty edits delay the
// track, the first edit's media time is where its presentation begins
// (ffmpeg uses it to hide B-frame delay and AAC priming). Further edits
// are counted, not applied.
func (tb *trakBoxes) applyEdits() {
	t := tb.t
	var delay uint64 // movie timescale
	for _, e := range tb.edits {
		if e.mediaTime == -1 {
			if t.edits == 0 {
				delay += e.duration
			}
			continue
		}
		if t.edits == 0 {
			t.shift = -e.mediaTime
		}
		t.edits++
	}
	if delay > 0 && tb.movieTS > 0 {
		t.shift += int64(scaleTime(delay, tb.movieTS, t.timescale))
	}
}

// scaleTime converts v from one timescale to another without overflow for
// any file-sized value.
func scaleTime(v uint64, from, to uint32) uint64 {
	return v/uint64(from)*uint64(to) + v%uint64(from)*uint64(to)/uint64(from)
}
