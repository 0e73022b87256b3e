package vod

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/hls"
)

const (
	// maxSampleSize bounds one sample read into memory.
	maxSampleSize = 64 << 20
	// maxHeld bounds the video frames held back at a segment's start
	// until its first audio frame is written (see writer.hold).
	maxHeld = 64
	// tsStart is where the timeline's zero falls on the MPEG-TS clock:
	// 1.4 s, as ffmpeg starts, leaving room for B-frame decode times
	// before the first presentation and the PCR before those.
	tsStart = 126000
)

// writer writes the segments of one packaging run.
type writer struct {
	a      *analysis
	br     *blockReader
	out    Sink
	enc    *Encryption
	target time.Duration
	prefix string

	cuts   []int64 // segment boundaries on the timeline
	tsBase int64   // timeline value of MPEG-TS time 0
	vcfg   *hls.TSVideo
	acfg   *hls.TSAudio

	written map[*track]int // samples put into segments, per track
	results []SegmentResult
	buf     []byte // one sample's bytes

	// The segment being written.
	cur     int
	data    bytes.Buffer
	ts      *hls.TSWriter
	res     SegmentResult
	hold    bool  // holding video back until the segment's first audio frame
	held    []int // video sample indices held back
	sawVid  bool  // a video frame was written in this segment
	curOpen bool
}

func (p *Packager) newWriter(a *analysis, br *blockReader, out Sink, enc *Encryption) (*writer, error) {
	w := &writer{a: a, br: br, out: out, enc: enc, target: p.target(), prefix: p.segmentPrefix(), written: map[*track]int{}}
	tgt := toClock(w.target.Milliseconds(), 1000)
	w.cuts = planCuts(a.anchor.candidates(a.keyframeCut), a.zero, a.end, tgt)
	minDTS := a.zero
	for _, t := range a.used() {
		minDTS = min(minDTS, t.dtsAt(0))
	}
	w.tsBase = minDTS - tsStart
	if v := a.video; v != nil {
		w.vcfg = &hls.TSVideo{H265: v.codec == CodecH265, ParameterSets: v.paramSets}
	}
	if au := a.audio; au != nil {
		w.acfg = &hls.TSAudio{AAC: au.asc}
	}
	return w, nil
}

// run writes every sample of the packaged tracks, in decode order, into
// the segments the cuts define.
func (w *writer) run(ctx context.Context) error {
	v, au := w.a.video, w.a.audio
	vi, ai := 0, 0
	nv, na := 0, 0
	if v != nil {
		nv = len(v.samples)
	}
	if au != nil {
		na = len(au.samples)
	}
	w.cur = -1
	for vi < nv || ai < na {
		var t *track
		var i int
		switch {
		case ai >= na:
			t, i = v, vi
		case vi >= nv:
			t, i = au, ai
		default:
			vd, ad := v.dtsAt(vi), au.dtsAt(ai)
			// On a tie the anchor goes first: it opens segments.
			if vd < ad || vd == ad && w.a.anchor == v {
				t, i = v, vi
			} else {
				t, i = au, ai
			}
		}
		if t == v {
			vi++
		} else {
			ai++
		}
		if seg := segmentOf(w.cuts, t.dtsAt(i)); seg != w.cur {
			if err := w.finish(ctx); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := w.begin(seg); err != nil {
				return err
			}
		}
		if err := w.add(t, i); err != nil {
			return err
		}
	}
	return w.finish(ctx)
}

// begin starts segment seg.
func (w *writer) begin(seg int) error {
	w.cur, w.curOpen = seg, true
	w.data.Reset()
	ts, err := hls.NewTSWriter(&w.data, w.vcfg, w.acfg)
	if err != nil {
		return err
	}
	w.ts = ts
	w.res = SegmentResult{Name: fmt.Sprintf("%s%05d.ts", w.prefix, seg), Start: seconds(w.cuts[seg] - w.a.zero)}
	w.sawVid = false
	// The first track written carries the PCR. With sparse video cut by
	// time on audio, audio must lead, or the PCR would come only with
	// each rare video frame.
	w.hold = w.a.video != nil && w.a.anchor == w.a.audio
	w.held = w.held[:0]
	return nil
}

// add writes sample i of t, or holds a video frame back until the
// segment's first audio frame.
func (w *writer) add(t *track, i int) error {
	if t == w.a.video && w.hold {
		w.held = append(w.held, i)
		if len(w.held) < maxHeld {
			return nil
		}
		return w.release()
	}
	if err := w.write(t, i); err != nil {
		return err
	}
	if t == w.a.audio && w.hold {
		return w.release()
	}
	return nil
}

// release writes the held video frames.
func (w *writer) release() error {
	w.hold = false
	for _, i := range w.held {
		if err := w.write(w.a.video, i); err != nil {
			return err
		}
	}
	w.held = w.held[:0]
	return nil
}

// write muxes sample i of t into the segment.
func (w *writer) write(t *track, i int) error {
	s := t.samples[i]
	if s.size > maxSampleSize {
		return fmt.Errorf("%s track %d sample %d is %d bytes, more than %d: %w", t.kind, t.id, i, s.size, maxSampleSize, ErrMalformed)
	}
	if cap(w.buf) < int(s.size) {
		w.buf = make([]byte, s.size)
	}
	data := w.buf[:s.size]
	if n, err := w.br.ReadAt(data, s.off); n < len(data) {
		if w.br.err != nil {
			return w.br.err
		}
		return fmt.Errorf("%s track %d sample %d at bytes %d-%d: %v: %w", t.kind, t.id, i, s.off, s.off+int64(s.size), err, ErrMalformed)
	}
	dts, pts := t.dtsAt(i)-w.tsBase, t.ptsAt(i)-w.tsBase
	pts = max(pts, dts)
	var err error
	if t == w.a.video {
		var au [][]byte
		if au, err = flv.SplitNALUs(data, t.lengthSize); err != nil {
			return fmt.Errorf("video track %d sample %d: %v: %w", t.id, i, err, ErrMalformed)
		}
		if !w.sawVid {
			w.sawVid, w.res.Keyframe = true, s.sync
		}
		err = w.ts.WriteVideo(pts, dts, au, s.sync)
		w.res.VideoFrames++
	} else {
		err = w.ts.WriteAudio(pts, data)
		w.res.AudioFrames++
	}
	if err != nil {
		return fmt.Errorf("%s track %d sample %d: mpeg-ts: %v: %w", t.kind, t.id, i, err, ErrMalformed)
	}
	w.written[t]++
	return nil
}

// finish completes the segment being written and stores it.
func (w *writer) finish(ctx context.Context) error {
	if !w.curOpen {
		return nil
	}
	w.curOpen = false
	if err := w.release(); err != nil {
		return err
	}
	body, err := w.encodeSegment(w.cur, w.data.Bytes())
	if err != nil {
		return err
	}
	if err := w.out.Put(ctx, w.res.Name, body, ContentTypeSegment); err != nil {
		return fmt.Errorf("%w: segment %s: %w", ErrWrite, w.res.Name, err)
	}
	w.res.Bytes = len(body)
	w.res.Duration = w.extinf(w.cur).Seconds()
	w.results = append(w.results, w.res)
	return nil
}
