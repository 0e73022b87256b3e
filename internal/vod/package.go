package vod

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/strata-cdn/strata/internal/hls"
)

// Defaults for zero Packager fields.
const (
	DefaultTarget        = 6 * time.Second
	DefaultPlaylist      = "index.m3u8"
	DefaultSegmentPrefix = "segment-"
	// ReportName is the analysis report written beside the playlist.
	ReportName = "analysis.json"
)

// Content types of the outputs (RFC 8216 §4).
const (
	ContentTypePlaylist = "application/vnd.apple.mpegurl"
	ContentTypeSegment  = "video/mp2t"
	ContentTypeKey      = "application/octet-stream"
	ContentTypeReport   = "application/json"
)

// Sink receives the output objects, named relative to the output prefix.
// Put must not keep data after it returns: the packager reuses it.
type Sink interface {
	Put(ctx context.Context, name string, data []byte, contentType string) error
}

// Encryption configures AES-128 encryption of the segments (RFC 8216
// §4.3.2.4). Each segment's IV is its media sequence number (§5.2).
type Encryption struct {
	// Key is the 16-byte AES key.
	Key []byte
	// KeyURI is EXT-X-KEY's URI: where players fetch the key, relative to
	// the playlist or absolute. Protect it (a private bucket behind an
	// authenticating key server, a signed URL): whoever reads it can
	// decrypt the segments.
	KeyURI string
	// KeyObject, if set, is the output name the key is written to (e.g.
	// "enc.key"); empty: the key is not written (the caller keeps it).
	KeyObject string
}

// Packager packages MP4 inputs as HLS VOD. Its zero value works.
type Packager struct {
	// Target is the segment duration aimed at. If zero, DefaultTarget.
	Target time.Duration
	// Cut is CutAuto (""), CutKeyframe or CutTime.
	Cut string
	// Strict refuses inputs with warning findings, not just errors.
	Strict bool
	// MaxSamples bounds the sample index. If zero, DefaultMaxSamples.
	MaxSamples int
	// Playlist names the playlist. If empty, DefaultPlaylist.
	Playlist string
	// SegmentPrefix starts segment names: PREFIX00000.ts. If empty,
	// DefaultSegmentPrefix.
	SegmentPrefix string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// SegmentResult describes one written segment.
type SegmentResult struct {
	Name        string  `json:"name"`
	Start       float64 `json:"start_seconds"`
	Duration    float64 `json:"duration_seconds"`
	Bytes       int     `json:"bytes"`
	VideoFrames int     `json:"video_frames"`
	AudioFrames int     `json:"audio_frames"`
	// Keyframe: the segment's first video frame is a keyframe.
	Keyframe bool `json:"starts_with_keyframe"`
}

// Result is what Package did.
type Result struct {
	Report   *Report         `json:"report"`
	Playlist string          `json:"playlist,omitempty"`
	Key      string          `json:"key_object,omitempty"`
	Segments []SegmentResult `json:"segments"`
	// Duration is the sum of the playlist's EXTINF durations.
	Duration float64 `json:"duration_seconds"`
	Bytes    int64   `json:"bytes"`
}

func (p *Packager) target() time.Duration {
	if p.Target <= 0 {
		return DefaultTarget
	}
	return p.Target
}

func (p *Packager) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// Analyze reads src's index and reports on it, without packaging. The
// error is about reading the file; findings are in the report.
func (p *Packager) Analyze(ctx context.Context, src Source) (*Report, error) {
	a, _, err := p.analyze(ctx, src)
	if err != nil {
		return nil, err
	}
	return a.report, nil
}

func (p *Packager) analyze(ctx context.Context, src Source) (*analysis, *blockReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	switch p.Cut {
	case "", CutAuto, CutKeyframe, CutTime:
	default:
		return nil, nil, fmt.Errorf("cut %q: want auto, keyframe or time", p.Cut)
	}
	br := newBlockReader(src)
	m, err := readMovie(br, p.MaxSamples)
	if err != nil {
		return nil, nil, err
	}
	return analyze(m, src.Size(), p.target(), p.Cut), br, nil
}

// Package analyses src and, unless the findings refuse it, writes the HLS
// rendition to out: segments, the key (when enc names an object), the
// playlist last, and the analysis report. It checks before writing the
// playlist that the playlist covers the input: every sample of the
// packaged tracks written, EXTINF durations adding up to the input's
// duration within one target; otherwise it fails with ErrTruncated and
// writes no playlist. The Result is returned with any error once the
// analysis is done.
func (p *Packager) Package(ctx context.Context, src Source, out Sink, enc *Encryption) (*Result, error) {
	a, br, err := p.analyze(ctx, src)
	if err != nil {
		return nil, err
	}
	res := &Result{Report: a.report, Segments: []SegmentResult{}}
	if fs := a.report.Blocking(p.Strict); len(fs) > 0 {
		return res, refusal(fs, p.Strict)
	}
	if enc != nil && len(enc.Key) != hls.KeySize {
		return res, fmt.Errorf("encryption key of %d bytes, want %d", len(enc.Key), hls.KeySize)
	}
	w, err := p.newWriter(a, br, out, enc)
	if err != nil {
		return res, err
	}
	if err := w.run(ctx); err != nil {
		return res, err
	}
	res.Segments = w.results
	for _, s := range w.results {
		res.Bytes += int64(s.Bytes)
	}
	pl := w.playlist()
	body := pl.Marshal()
	if err := w.verify(body); err != nil {
		return res, err
	}
	res.Duration = seconds(a.end - a.zero)
	if back, err := hls.ParseMediaPlaylist(body); err == nil {
		res.Duration = back.Duration().Seconds()
	}
	if enc != nil && enc.KeyObject != "" {
		if err := out.Put(ctx, enc.KeyObject, enc.Key, ContentTypeKey); err != nil {
			return res, fmt.Errorf("%w: key %s: %w", ErrWrite, enc.KeyObject, err)
		}
		res.Key = enc.KeyObject
	}
	name := p.playlistName()
	if err := out.Put(ctx, name, body, ContentTypePlaylist); err != nil {
		return res, fmt.Errorf("%w: playlist %s: %w", ErrWrite, name, err)
	}
	res.Playlist = name
	rep, _ := json.MarshalIndent(a.report, "", "  ")
	if err := out.Put(ctx, ReportName, rep, ContentTypeReport); err != nil {
		return res, fmt.Errorf("%w: report %s: %w", ErrWrite, ReportName, err)
	}
	p.log().Info("vod packaged", "segments", len(res.Segments), "duration", res.Duration, "mode", a.report.Segmenting.Mode)
	return res, nil
}

func (p *Packager) playlistName() string {
	if p.Playlist == "" {
		return DefaultPlaylist
	}
	return p.Playlist
}

func (p *Packager) segmentPrefix() string {
	if p.SegmentPrefix == "" {
		return DefaultSegmentPrefix
	}
	return p.SegmentPrefix
}

// verify reads the playlist back and checks it covers the input: its
// segment count, its EXTINF sum against the input's duration, and that
// every sample of the packaged tracks went into a segment. Case C28: a
// playlist that plays for seconds of an 8-minute file is never published.
func (w *writer) verify(body []byte) error {
	pl, err := hls.ParseMediaPlaylist(body)
	if err != nil {
		return fmt.Errorf("%w: the playlist written does not parse: %w", ErrTruncated, err)
	}
	if !pl.Ended || pl.Type != "VOD" {
		return fmt.Errorf("%w: the playlist lacks EXT-X-ENDLIST or EXT-X-PLAYLIST-TYPE:VOD", ErrTruncated)
	}
	if len(pl.Segments) != len(w.results) {
		return fmt.Errorf("%w: the playlist lists %d segments, %d were written", ErrTruncated, len(pl.Segments), len(w.results))
	}
	want := time.Duration(w.a.end-w.a.zero) * time.Second / clock
	got := pl.Duration()
	if diff := (got - want).Abs(); diff > w.target {
		return fmt.Errorf("%w: the playlist plays %.3f s of the %.3f s input (more than one %v segment apart)", ErrTruncated, got.Seconds(), want.Seconds(), w.target)
	}
	for _, t := range w.a.used() {
		if n := w.written[t]; n != len(t.samples) {
			return fmt.Errorf("%w: %d of the %d frames of %s track %d went into segments", ErrTruncated, n, len(t.samples), t.kind, t.id)
		}
	}
	return nil
}

// playlist is the VOD media playlist of the segments written.
func (w *writer) playlist() *hls.MediaPlaylist {
	pl := &hls.MediaPlaylist{TargetDuration: w.target, Type: "VOD", Ended: true, Independent: w.independent()}
	if w.enc != nil {
		pl.Key = &hls.Key{Method: "AES-128", URI: w.enc.KeyURI}
	}
	for i, s := range w.results {
		pl.Segments = append(pl.Segments, hls.MediaSegment{URI: s.Name, Duration: w.extinf(i)})
	}
	return pl
}

// extinf is segment i's duration, from microsecond-rounded boundaries so
// that the durations add up exactly to the input's.
func (w *writer) extinf(i int) time.Duration {
	us := func(t int64) int64 { return (t - w.a.zero) * 1e6 / clock }
	end := w.a.end
	if i+1 < len(w.cuts) {
		end = w.cuts[i+1]
	}
	return time.Duration(us(end)-us(w.cuts[i])) * time.Microsecond
}

// independent: every segment starts with a keyframe (or there is no
// video), so EXT-X-INDEPENDENT-SEGMENTS holds (RFC 8216 §4.3.5.1).
func (w *writer) independent() bool {
	if w.a.video == nil {
		return true
	}
	for _, s := range w.results {
		if !s.Keyframe {
			return false
		}
	}
	return true
}

// segmentOf is the segment a timeline decode time belongs to.
func segmentOf(cuts []int64, dts int64) int {
	return max(0, sort.Search(len(cuts), func(i int) bool { return cuts[i] > dts })-1)
}

// encodeSegment encrypts a finished segment when asked.
func (w *writer) encodeSegment(seq int, data []byte) ([]byte, error) {
	if w.enc == nil {
		return data, nil
	}
	return hls.EncryptSegment(w.enc.Key, hls.SequenceIV(uint64(seq)), data)
}
