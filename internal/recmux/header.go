package recmux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// movieTimeScale is the mvhd time scale mediacommon writes.
const movieTimeScale = 1000

// ErrNoTracks: a header was asked for a file without tracks.
var ErrNoTracks = errors.New("recording file has no tracks")

// Header returns what goes in front of a file's fragments to make it a
// complete, seekable MP4: ftyp and moov, whose mvex carries the file's
// duration in a mehd box (ISO/IEC 14496-12 §8.8.2), then one sidx per track
// (§8.16.3) indexing every fragment, so a player seeks without reading the
// whole file and ffprobe knows the duration. frags are the file's
// fragments in order, as they follow the header.
func Header(tracks []Track, frags []FragmentInfo) ([]byte, error) {
	if len(tracks) == 0 {
		return nil, ErrNoTracks
	}
	tracks = append([]Track(nil), tracks...)
	sort.Slice(tracks, func(i, j int) bool { return tracks[i].ID < tracks[j].ID })
	init := fmp4.Init{}
	var dur int64 // movie time scale
	ends := map[int]uint64{}
	firsts := map[int]uint64{}
	for _, f := range frags {
		for _, s := range f.Spans {
			if _, ok := firsts[s.Track]; !ok {
				firsts[s.Track] = s.Start
			}
			ends[s.Track] = max(ends[s.Track], s.Start+s.Duration)
		}
	}
	for _, t := range tracks {
		c, err := t.codec()
		if err != nil {
			return nil, fmt.Errorf("track %d: %w", t.ID, err)
		}
		if t.TimeScale == 0 {
			return nil, fmt.Errorf("track %d: no time scale", t.ID)
		}
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{ID: t.ID, TimeScale: t.TimeScale, Codec: c})
		dur = max(dur, int64(ends[t.ID]*movieTimeScale/uint64(t.TimeScale)))
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("write moov: %w", err)
	}
	hdr := buf.Bytes()
	for _, t := range tracks {
		first, ok := firsts[t.ID]
		if !ok || first == 0 {
			continue
		}
		var err error
		delay := first * movieTimeScale / uint64(t.TimeScale)
		length := (ends[t.ID] - first) * movieTimeScale / uint64(t.TimeScale)
		if hdr, err = withDelay(hdr, t.ID, uint32(delay), uint32(length)); err != nil {
			return nil, err
		}
	}
	out, err := withDuration(hdr, uint32(min(dur, 1<<32-1)))
	if err != nil {
		return nil, err
	}
	// One sidx per track that has samples; each indexes every fragment and
	// first_offset skips the sidx boxes after it.
	var sidxs [][]byte
	for _, t := range tracks {
		if _, ok := firsts[t.ID]; ok {
			sidxs = append(sidxs, sidx(t, frags))
		}
	}
	for i, s := range sidxs {
		var after int
		for _, o := range sidxs[i+1:] {
			after += len(o)
		}
		binary.BigEndian.PutUint64(s[28:36], uint64(after))
		out = append(out, s...)
	}
	return out, nil
}

// sidx builds a version 1 segment index box for track t (ISO/IEC 14496-12
// §8.16.3): one reference per fragment, with the track's duration in it.
func sidx(t Track, frags []FragmentInfo) []byte {
	n := len(frags)
	b := make([]byte, 0, 40+12*n)
	b = binary.BigEndian.AppendUint32(b, uint32(40+12*n))
	b = append(b, "sidx"...)
	b = append(b, 1, 0, 0, 0) // version 1, flags 0
	b = binary.BigEndian.AppendUint32(b, uint32(t.ID))
	b = binary.BigEndian.AppendUint32(b, t.TimeScale)
	b = binary.BigEndian.AppendUint64(b, 0) // earliest_presentation_time: the track's time line starts at 0 (withDelay)
	b = binary.BigEndian.AppendUint64(b, 0) // first_offset, set by Header
	b = binary.BigEndian.AppendUint16(b, 0) // reserved
	b = binary.BigEndian.AppendUint16(b, uint16(min(n, 0xffff)))
	for i, f := range frags {
		if i == 0xffff {
			break
		}
		var d uint64
		for _, s := range f.Spans {
			if s.Track == t.ID {
				d = s.Duration
			}
		}
		b = binary.BigEndian.AppendUint32(b, uint32(f.Size)&0x7fffffff) // reference_type 0: media
		b = binary.BigEndian.AppendUint32(b, uint32(min(d, 1<<32-1)))
		sap := uint32(0)
		if f.Key || !t.IsVideo() {
			sap = 1<<31 | 1<<28 // starts_with_SAP, SAP_type 1
		}
		b = binary.BigEndian.AppendUint32(b, sap)
	}
	return b
}

// withDuration sets the movie's duration in an ftyp+moov from
// fmp4.Init.Marshal: mvhd's duration field and a mehd box, inserted as
// mvex's first child (ISO/IEC 14496-12 §8.8.2).
func withDuration(b []byte, dur uint32) ([]byte, error) {
	moov, ok := findBox(b, 0, len(b), "moov")
	if !ok {
		return nil, errors.New("write moov: no moov box")
	}
	mvhd, ok := findBox(b, moov+8, moov+boxSize(b, moov), "mvhd")
	if !ok || boxSize(b, mvhd) < 32 || b[mvhd+8] != 0 {
		return nil, errors.New("write moov: no version 0 mvhd box")
	}
	// mvhd v0: version+flags, creation, modification, timescale, duration.
	binary.BigEndian.PutUint32(b[mvhd+24:], dur)
	mvex, ok := findBox(b, moov+8, moov+boxSize(b, moov), "mvex")
	if !ok {
		return nil, errors.New("write moov: no mvex box")
	}
	mehd := binary.BigEndian.AppendUint32(nil, 16)
	mehd = append(mehd, "mehd"...)
	mehd = append(mehd, 0, 0, 0, 0)
	mehd = binary.BigEndian.AppendUint32(mehd, dur)
	out := make([]byte, 0, len(b)+len(mehd))
	out = append(out, b[:mvex+8]...)
	out = append(out, mehd...)
	out = append(out, b[mvex+8:]...)
	binary.BigEndian.PutUint32(out[moov:], uint32(boxSize(b, moov)+len(mehd)))
	binary.BigEndian.PutUint32(out[mvex:], uint32(boxSize(b, mvex)+len(mehd)))
	return out, nil
}

// withDelay gives track id an edit list (ISO/IEC 14496-12 §8.6.6) whose
// empty edit delays it by delay, in the movie time scale: a track that
// starts late keeps its own time line from zero and the movie shows it at
// its place (case C34).
func withDelay(b []byte, id int, delay, length uint32) ([]byte, error) {
	moov, ok := findBox(b, 0, len(b), "moov")
	if !ok {
		return nil, errors.New("write moov: no moov box")
	}
	for p := moov + 8; p+8 <= moov+boxSize(b, moov); p += boxSize(b, p) {
		if boxSize(b, p) < 8 {
			break
		}
		if string(b[p+4:p+8]) != "trak" {
			continue
		}
		tkhd, ok := findBox(b, p+8, p+boxSize(b, p), "tkhd")
		if !ok || boxSize(b, tkhd) < 24 || binary.BigEndian.Uint32(b[tkhd+20:]) != uint32(id) {
			continue // tkhd v0: version+flags, creation, modification, track_ID
		}
		edts := binary.BigEndian.AppendUint32(nil, 8+16+2*12)
		edts = append(edts, "edts"...)
		edts = binary.BigEndian.AppendUint32(edts, 16+2*12)
		edts = append(edts, "elst"...)
		edts = append(edts, 0, 0, 0, 0)
		edts = binary.BigEndian.AppendUint32(edts, 2)
		edts = binary.BigEndian.AppendUint32(edts, delay) // the empty edit
		edts = binary.BigEndian.AppendUint32(edts, 0xffffffff)
		edts = append(edts, 0, 1, 0, 0)
		edts = binary.BigEndian.AppendUint32(edts, length) // the media, from 0
		edts = binary.BigEndian.AppendUint32(edts, 0)
		edts = append(edts, 0, 1, 0, 0)
		at := tkhd + boxSize(b, tkhd)
		out := make([]byte, 0, len(b)+len(edts))
		out = append(append(append(out, b[:at]...), edts...), b[at:]...)
		binary.BigEndian.PutUint32(out[moov:], uint32(boxSize(b, moov)+len(edts)))
		binary.BigEndian.PutUint32(out[p:], uint32(boxSize(b, p)+len(edts)))
		return out, nil
	}
	return nil, fmt.Errorf("write moov: no track %d", id)
}

func boxSize(b []byte, at int) int { return int(binary.BigEndian.Uint32(b[at:])) }

// findBox returns the offset of the first box of type typ among the boxes
// in b[from:to].
func findBox(b []byte, from, to int, typ string) (int, bool) {
	for p := from; p+8 <= to && p+8 <= len(b); {
		n := boxSize(b, p)
		if n < 8 || p+n > len(b) {
			return 0, false
		}
		if string(b[p+4:p+8]) == typ {
			return p, true
		}
		p += n
	}
	return 0, false
}
