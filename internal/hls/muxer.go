// Package hls packages a live stream of FLV tags into HLS (RFC 8216):
// MPEG-TS segments cut on keyframes at a target duration (by time for
// audio-only streams), and a sliding-window media playlist.
//
// It is pure: the caller passes the time with every call, and serialises
// calls (a Muxer is not safe for concurrent use). MPEG-TS muxing uses
// github.com/bluenviron/mediacommon/v2's mpegts writer.
//
// For video on demand it also has the pieces a packager that plans its own
// cuts needs: TSWriter (one segment from access units), MediaPlaylist
// (VOD playlists, written and read back) and AES-128 segment encryption.
package hls

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/strata-cdn/strata/internal/flv"
)

// ErrUnsupportedCodec: the stream carries a codec HLS cannot carry (case
// C29). The wrapping error names the codec and what to do.
var ErrUnsupportedCodec = errors.New("codec not supported by HLS")

// Defaults for zero Options fields.
const (
	DefaultTargetDuration = 2 * time.Second
	DefaultPlaylistSize   = 6
)

// Options configure a Muxer.
type Options struct {
	// Stream names the stream in error messages, e.g. "live/cam".
	Stream string
	// Session prefixes segment names so a republished stream never reuses
	// a segment URL an edge may have cached.
	Session string
	// HasVideo: the stream has a video track, so segments start and are
	// cut on video keyframes; otherwise they are cut by time.
	HasVideo bool
	// TargetDuration is the segment duration aimed at. If zero,
	// DefaultTargetDuration is used.
	TargetDuration time.Duration
	// PlaylistSize is the number of segments in the playlist window. If
	// zero, DefaultPlaylistSize is used.
	PlaylistSize int
}

// Segment is one MPEG-TS segment.
type Segment struct {
	Seq           uint64
	Name          string // file name, e.g. "1a2b3c-7.ts"
	Duration      time.Duration
	Discontinuity bool // codec parameters changed before this segment
	Data          []byte
	// LeftPlaylist is when the segment slid out of the playlist window;
	// zero while it is listed.
	LeftPlaylist time.Time
}

// Muxer packages one publish session.
type Muxer struct {
	opts Options

	// Codec state.
	videoCodec flv.VideoCodec
	avc        *flv.AVCConfig
	hevc       *flv.HEVCConfig
	audioFmt   flv.SoundFormat
	haveAudio  bool
	asc        *mpeg4audio.AudioSpecificConfig
	ascRaw     []byte
	videoRaw   []byte
	pendingDis bool // the next segment starts after a codec change
	err        error

	// The segment being written.
	cur        *building
	nextSeq    uint64
	segments   []*Segment // complete segments, oldest first
	discontSeq uint64     // discontinuities among segments dropped from the window
	ended      bool
	endedAt    time.Time // when End was called
}

// building is a segment being written.
type building struct {
	buf           bytes.Buffer
	w             *mpegts.Writer
	video, audio  *mpegts.Track
	start, last   int64 // DTS in milliseconds
	discontinuity bool
}

// New returns a Muxer.
func New(opts Options) *Muxer {
	if opts.TargetDuration <= 0 {
		opts.TargetDuration = DefaultTargetDuration
	}
	if opts.PlaylistSize <= 0 {
		opts.PlaylistSize = DefaultPlaylistSize
	}
	return &Muxer{opts: opts}
}

// Err returns the error that stopped the muxer, if any: an
// ErrUnsupportedCodec for a codec HLS cannot carry.
func (m *Muxer) Err() error { return m.err }

// Retention is how long a segment stays fetchable after it leaves the
// playlist: twice the playlist window, so an edge that cached a playlist
// (for far less than that) never lists a segment the origin dropped (case
// C30). A segment's Cache-Control max-age must not exceed it.
func (m *Muxer) Retention() time.Duration {
	return 2 * time.Duration(m.opts.PlaylistSize) * m.opts.TargetDuration
}

// TargetDuration returns the target segment duration.
func (m *Muxer) TargetDuration() time.Duration { return m.opts.TargetDuration }

// WriteTag adds one tag of the stream. After an unsupported codec it
// returns the same error forever.
func (m *Muxer) WriteTag(t flv.Tag, now time.Time) error {
	if m.err != nil {
		return m.err
	}
	var err error
	switch t.Type {
	case flv.TagVideo:
		err = m.writeVideo(t, now)
	case flv.TagAudio:
		err = m.writeAudio(t, now)
	}
	if errors.Is(err, ErrUnsupportedCodec) {
		m.err = err
		m.cur = nil
	}
	return err
}

func (m *Muxer) writeVideo(t flv.Tag, now time.Time) error {
	v, err := flv.ParseVideo(t.Body)
	if err != nil {
		return err
	}
	if v.Codec != flv.VideoH264 && v.Codec != flv.VideoH265 {
		return fmt.Errorf("stream %s has %v video, which Strata's HLS packager cannot carry; play it over HTTP-FLV or publish H.264: %w", m.opts.Stream, v.Codec, ErrUnsupportedCodec)
	}
	switch v.PacketType {
	case flv.VideoSequenceHeader:
		if m.videoRaw != nil && bytes.Equal(m.videoRaw, v.Payload) {
			return nil
		}
		if v.Codec == flv.VideoH264 {
			c, err := flv.ParseAVCConfig(v.Payload)
			if err != nil {
				return err
			}
			m.avc, m.hevc = &c, nil
		} else {
			c, err := flv.ParseHEVCConfig(v.Payload)
			if err != nil {
				return err
			}
			m.hevc, m.avc = &c, nil
		}
		m.changed(now, m.videoRaw != nil)
		m.videoCodec = v.Codec
		m.videoRaw = append([]byte(nil), v.Payload...)
		return nil
	case flv.VideoNALU:
	default:
		return nil
	}
	if m.avc == nil && m.hevc == nil {
		return nil // no sequence header yet: undecodable
	}
	lengthSize := 4
	if m.avc != nil {
		lengthSize = m.avc.LengthSize
	} else {
		lengthSize = m.hevc.LengthSize
	}
	au, err := flv.SplitNALUs(v.Payload, lengthSize)
	if err != nil || len(au) == 0 {
		return err
	}
	dts := int64(t.Timestamp)
	if v.KeyFrame {
		if m.cur != nil && dts-m.cur.start >= m.opts.TargetDuration.Milliseconds() {
			m.cut(now, dts)
		}
		if m.cur == nil {
			m.begin(dts)
		}
		au = m.withParameterSets(au)
	}
	if m.cur == nil || m.cur.video == nil {
		return nil // wait for a keyframe
	}
	m.cur.last = max(m.cur.last, dts)
	pts90, dts90 := ts90(dts+int64(v.CompositionTime)), ts90(dts)
	if m.avc != nil {
		return m.cur.w.WriteH264(m.cur.video, pts90, dts90, au)
	}
	return m.cur.w.WriteH265(m.cur.video, pts90, dts90, au)
}

// withParameterSets prepends the SPS and PPS (and VPS) to a keyframe that
// lacks them: each segment must decode on its own (RFC 8216 §3).
func (m *Muxer) withParameterSets(au [][]byte) [][]byte {
	var ps [][]byte
	if m.avc != nil {
		for _, n := range au {
			if t := n[0] & 0x1f; t == 7 {
				return au
			}
		}
		ps = append(append(ps, m.avc.SPS...), m.avc.PPS...)
	} else {
		for _, n := range au {
			if t := n[0] >> 1 & 0x3f; t == 33 {
				return au
			}
		}
		ps = append(append(append(ps, m.hevc.VPS...), m.hevc.SPS...), m.hevc.PPS...)
	}
	return append(ps, au...)
}

func (m *Muxer) writeAudio(t flv.Tag, now time.Time) error {
	a, err := flv.ParseAudio(t.Body)
	if err != nil {
		return err
	}
	switch a.Format {
	case flv.SoundAAC, flv.SoundMP3:
	default:
		return fmt.Errorf("stream %s has %v audio, which HLS cannot carry; play it over HTTP-FLV or publish AAC: %w", m.opts.Stream, a.Format, ErrUnsupportedCodec)
	}
	if m.haveAudio && a.Format != m.audioFmt {
		m.changed(now, true)
	}
	m.audioFmt, m.haveAudio = a.Format, true
	if a.Format == flv.SoundAAC && a.AACPacketType == flv.AACSequenceHeader {
		if m.ascRaw != nil && bytes.Equal(m.ascRaw, a.Payload) {
			return nil
		}
		var c mpeg4audio.AudioSpecificConfig
		if err := c.Unmarshal(a.Payload); err != nil {
			return fmt.Errorf("stream %s: AAC config: %w", m.opts.Stream, err)
		}
		m.changed(now, m.ascRaw != nil)
		m.asc, m.ascRaw = &c, append([]byte(nil), a.Payload...)
		return nil
	}
	if a.Format == flv.SoundAAC && m.asc == nil || len(a.Payload) == 0 {
		return nil
	}
	dts := int64(t.Timestamp)
	if !m.opts.HasVideo {
		if m.cur != nil && dts-m.cur.start >= m.opts.TargetDuration.Milliseconds() {
			m.cut(now, dts)
		}
		if m.cur == nil {
			m.begin(dts)
		}
	}
	if m.cur == nil || m.cur.audio == nil {
		return nil
	}
	m.cur.last = max(m.cur.last, dts)
	if a.Format == flv.SoundAAC {
		return m.cur.w.WriteMPEG4Audio(m.cur.audio, ts90(dts), [][]byte{a.Payload})
	}
	return m.cur.w.WriteMPEG1Audio(m.cur.audio, ts90(dts), [][]byte{a.Payload})
}

// ts90 converts milliseconds to the 90 kHz MPEG-TS clock, offset by one
// second so the PCR, which runs ahead of the DTS, is never negative.
func ts90(ms int64) int64 { return (ms + 1000) * 90 }

// changed handles new codec parameters: the segment being written ends and
// the next one carries EXT-X-DISCONTINUITY (RFC 8216 §4.3.2.3).
func (m *Muxer) changed(now time.Time, discontinuity bool) {
	if !discontinuity {
		return
	}
	if m.cur != nil {
		m.cut(now, m.cur.last+1)
	}
	m.pendingDis = true
}

// begin starts a segment at dts with the tracks whose codecs are known.
func (m *Muxer) begin(dts int64) {
	b := &building{start: dts, last: dts, discontinuity: m.pendingDis}
	m.pendingDis = false
	var tracks []*mpegts.Track
	if m.opts.HasVideo && (m.avc != nil || m.hevc != nil) {
		b.video = &mpegts.Track{Codec: &mpegts.CodecH264{}}
		if m.hevc != nil {
			b.video.Codec = &mpegts.CodecH265{}
		}
		tracks = append(tracks, b.video)
	}
	switch {
	case m.haveAudio && m.audioFmt == flv.SoundAAC && m.asc != nil:
		b.audio = &mpegts.Track{Codec: &mpegts.CodecMPEG4Audio{Config: *m.asc}}
	case m.haveAudio && m.audioFmt == flv.SoundMP3:
		b.audio = &mpegts.Track{Codec: &mpegts.CodecMPEG1Audio{}}
	}
	if b.audio != nil {
		tracks = append(tracks, b.audio)
	}
	if len(tracks) == 0 {
		return
	}
	b.w = &mpegts.Writer{W: &b.buf, Tracks: tracks}
	if err := b.w.Initialize(); err != nil {
		return
	}
	// PAT and PMT first, so every segment is decodable from its first byte.
	if _, err := b.w.WriteTables(); err != nil {
		return
	}
	m.cur = b
}

// cut completes the current segment, which ends where the next starts.
func (m *Muxer) cut(now time.Time, end int64) {
	b := m.cur
	m.cur = nil
	if b == nil || b.buf.Len() == 0 {
		return
	}
	d := time.Duration(end-b.start) * time.Millisecond
	if d <= 0 {
		d = time.Millisecond
	}
	m.segments = append(m.segments, &Segment{
		Seq: m.nextSeq, Name: fmt.Sprintf("%s-%d.ts", m.opts.Session, m.nextSeq),
		Duration: d, Discontinuity: b.discontinuity, Data: b.buf.Bytes(),
	})
	m.nextSeq++
	m.slide(now)
}

// slide marks segments that left the window and forgets those past
// retention.
func (m *Muxer) slide(now time.Time) {
	listed := 0
	for i := len(m.segments) - 1; i >= 0; i-- {
		s := m.segments[i]
		if !s.LeftPlaylist.IsZero() {
			break
		}
		listed++
		if listed > m.opts.PlaylistSize {
			s.LeftPlaylist = now
			if s.Discontinuity {
				m.discontSeq++
			}
		}
	}
	m.Prune(now)
}

// Prune forgets segments that left the playlist more than Retention ago,
// and every segment of a session that ended more than Retention ago.
func (m *Muxer) Prune(now time.Time) {
	keep := m.segments[:0]
	for _, s := range m.segments {
		if left, ok := m.leftAt(s); ok && now.Sub(left) > m.Retention() {
			continue
		}
		keep = append(keep, s)
	}
	clear(m.segments[len(keep):])
	m.segments = keep
}

// End completes the last segment and marks the playlist ended.
func (m *Muxer) End(now time.Time) {
	if m.cur != nil {
		m.cut(now, m.cur.last+40) // the last frame lasts about a frame
	}
	m.ended, m.endedAt = true, now
}

// leftAt returns when s stopped being listed in a live playlist: when it
// slid out of the window, or when the session ended.
func (m *Muxer) leftAt(s *Segment) (time.Time, bool) {
	switch {
	case !s.LeftPlaylist.IsZero():
		return s.LeftPlaylist, true
	case m.ended:
		return m.endedAt, true
	}
	return time.Time{}, false
}

// MaxAge is the longest a cache may keep s at now: the segment's remaining
// retention once it left the live playlist (or the session ended), and the
// full Retention while it is listed, since its retention has not begun. It
// is never negative. Case C30: a cache that honours it never holds a
// segment the origin has already dropped.
func (m *Muxer) MaxAge(s *Segment, now time.Time) time.Duration {
	left, ok := m.leftAt(s)
	if !ok {
		return m.Retention()
	}
	return max(0, m.Retention()-now.Sub(left))
}

// Segment returns the segment named name, if still retained.
func (m *Muxer) Segment(name string) (*Segment, bool) {
	for _, s := range m.segments {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Segments returns how many complete segments are retained.
func (m *Muxer) Segments() int { return len(m.segments) }
