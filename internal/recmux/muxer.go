// Package recmux remuxes a live stream's FLV tags into recording files:
// fragmented MP4 (ISO/IEC 14496-12 §8.8) that browsers and ffmpeg play and
// seek once Header is put in front of the fragments.
//
// The Muxer decides where files begin and end and says why: a new file
// starts when a decoder configuration changes mid-stream (a new SPS/PPS, an
// AAC config going from mono to stereo: browsers refuse such a change inside
// one file, case C33), when a file reaches its maximum duration, or when
// timestamps jump back. It tolerates tracks that start late or pause (case
// C34): a file holds every sample of the time it covers, a track joining late
// starts at its own time, and the file's summary notes what was odd.
//
// It is pure: no I/O of its own, no clock. Fragments go to a Sink; calls must
// be serialised (a Muxer is not safe for concurrent use). MP4 boxes are
// written with github.com/bluenviron/mediacommon/v2's fmp4 package.
package recmux

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/strata-cdn/strata/internal/flv"
)

// Defaults for zero Options fields.
const (
	DefaultFragmentDuration = time.Second
	DefaultMaxFragmentBytes = 8 << 20
)

// Thresholds of the oddities a file's summary notes.
const (
	lateStart    = 500 * time.Millisecond // a track joining this late is noted
	audioGap     = time.Second            // audio silent this long is a gap
	videoGap     = 3 * time.Second        // video still this long is a gap
	earlyEnd     = 2 * time.Second        // a track ending this early is noted
	jumpBack     = time.Second            // timestamps going back this far split
	audioOverlap = 100                    // ms of audio overlap laid end to end
	maxNoteLen   = 50                     // notes kept per file
)

// Options configure a Muxer.
type Options struct {
	// MaxDuration splits files: a file that has lasted this long ends at
	// the next video keyframe (or audio frame, without video). Zero: no
	// limit.
	MaxDuration time.Duration
	// FragmentDuration is the least media time of a fragment; fragments
	// are cut on video keyframes (by time without video). If zero,
	// DefaultFragmentDuration is used.
	FragmentDuration time.Duration
	// MaxFragmentBytes bounds the memory of the fragment being built: a
	// fragment this large is cut even between keyframes. If zero,
	// DefaultMaxFragmentBytes is used.
	MaxFragmentBytes int
}

// Sink receives the files a Muxer makes: StartFile, fragments, EndFile.
// An error stops the Muxer: WriteTag and Close return it from then on.
type Sink interface {
	StartFile(f FileStart) error
	// WriteFragment receives one fragment, a moof and its mdat. data is
	// only valid during the call.
	WriteFragment(data []byte, info FragmentInfo) error
	EndFile(s FileSummary) error
}

// FileStart announces a new file.
type FileStart struct {
	// Seq numbers the publish session's files from 1.
	Seq int
	// Reason says why the file starts: "publish started", "audio config
	// changed: 1 ch → 2 ch at 00:01:23 of the publish".
	Reason string
	// At is the file's start in the publish's media time.
	At time.Duration
}

// FileSummary describes a finished (or, from Current, growing) file.
type FileSummary struct {
	Seq         int           `json:"seq"`
	StartReason string        `json:"start_reason"`
	EndReason   string        `json:"end_reason,omitempty"`
	At          time.Duration `json:"-"`
	Duration    time.Duration `json:"-"`
	Tracks      []Track       `json:"tracks"`
	// Notes are the oddities of the input: "video starts 2.0 s after
	// audio", "audio gap of 5.0 s at 00:00:12".
	Notes     []string `json:"notes,omitempty"`
	Fragments int      `json:"fragments"`
}

// FragmentInfo indexes one fragment, for the file's header (Header).
type FragmentInfo struct {
	Size int64 `json:"size"`
	// Key: the fragment's video starts with a keyframe (or it has none).
	Key   bool   `json:"key"`
	Spans []Span `json:"spans"`
}

// Span is one track's samples in a fragment, in the track's time scale
// from the file's start. A track's first Start is its delay: its fragments'
// decode times count from there.
type Span struct {
	Track    int    `json:"track"`
	Start    uint64 `json:"start"`
	Duration uint64 `json:"duration"`
}

// sample is one access unit waiting for its fragment.
type sample struct {
	dts  int64 // track time scale, from the publish's timestamp zero
	ms   int64 // the tag's timestamp
	cts  int32 // composition offset, track time scale
	key  bool
	data []byte
	dur  uint32
}

// trackState is one track across the publish and in the current file.
type trackState struct {
	id         int
	name       string // "audio", "video"
	cfg        *Track // the latest decoder configuration
	lengthSize int    // NAL unit length prefix of H.264 / H.265 samples
	nominal    uint32 // an audio frame's duration in samples

	// In the current file.
	inFile    bool
	fileTrack Track
	firstMs   int64
	pending   *sample   // the latest sample, whose duration is not known yet
	ready     []*sample // samples of the fragment being built
	lastDelta uint32
	endDTS    int64 // end of the last sample in a fragment
	lastMs    int64 // timestamp of the latest sample
	backNoted bool
	delay     int64 // the track's start in the file, its time scale
	delaySet  bool
}

// fileState is the file being written.
type fileState struct {
	sum         FileSummary
	firstMs     int64
	baseMs      int64 // the file's time zero, fixed by the first fragment
	haveBase    bool
	fragStartMs int64 // timestamp of the fragment's first sample; -1 if none
	fragBytes   int
	fragSeq     uint32
	droppedPre  int // video frames dropped while waiting for a keyframe
}

// Muxer remuxes one publish session. Create it with New.
type Muxer struct {
	opts Options
	sink Sink
	err  error

	video, audio trackState
	sessionMs    int64
	haveSession  bool
	sessionNotes []string        // said in every file of the session
	noted        map[string]bool // session notes already said
	file         *fileState
	seq          int
	nextReason   string
}

// New returns a Muxer writing to sink.
func New(sink Sink, opts Options) *Muxer {
	if opts.FragmentDuration <= 0 {
		opts.FragmentDuration = DefaultFragmentDuration
	}
	if opts.MaxFragmentBytes <= 0 {
		opts.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	return &Muxer{
		opts:  opts,
		sink:  sink,
		video: trackState{id: VideoTrackID, name: "video"},
		audio: trackState{id: AudioTrackID, name: "audio"},
		noted: map[string]bool{},
	}
}

// WriteTag adds one tag of the publish. Malformed tags and codecs MP4
// cannot carry are dropped and noted; the error is the Sink's.
func (m *Muxer) WriteTag(t flv.Tag) error {
	if m.err != nil {
		return m.err
	}
	switch t.Type {
	case flv.TagVideo:
		m.onVideo(t)
	case flv.TagAudio:
		m.onAudio(t)
	}
	return m.err
}

// Close ends the current file with reason, e.g. "publish ended".
func (m *Muxer) Close(reason string) error {
	if m.err == nil && m.file != nil {
		m.endFile(reason)
	}
	return m.err
}

// Current returns the summary of the file being written, so far.
func (m *Muxer) Current() (FileSummary, bool) {
	if m.file == nil {
		return FileSummary{}, false
	}
	s := m.file.sum
	s.Tracks = append([]Track(nil), s.Tracks...)
	s.Notes = append([]string(nil), s.Notes...)
	last := m.file.firstMs
	for _, ts := range m.tracks() {
		if ts.inFile {
			last = max(last, ts.lastMs)
		}
	}
	s.Duration = time.Duration(last-m.file.firstMs) * time.Millisecond
	return s, true
}

// SessionNotes returns what the publish carries that no file can: codecs
// MP4 cannot hold, tags that did not parse.
func (m *Muxer) SessionNotes() []string { return append([]string(nil), m.sessionNotes...) }

func (m *Muxer) tracks() []*trackState { return []*trackState{&m.video, &m.audio} }

func (m *Muxer) onVideo(t flv.Tag) {
	v, err := flv.ParseVideo(t.Body)
	if err != nil {
		m.sessionNote("malformed video tags were dropped (" + err.Error() + ")")
		return
	}
	if v.Codec != flv.VideoH264 && v.Codec != flv.VideoH265 {
		m.sessionNote(fmt.Sprintf("video is %v, which MP4 recording cannot carry; the recording has no video", v.Codec))
		return
	}
	ms := int64(t.Timestamp)
	switch v.PacketType {
	case flv.VideoSequenceHeader:
		tr, ls, err := videoTrack(v.Codec, v.Payload)
		if err != nil {
			m.sessionNote("a video sequence header did not parse (" + err.Error() + "); video waits for a good one")
			return
		}
		m.video.lengthSize = ls
		m.setConfig(&m.video, tr, ms)
	case flv.VideoNALU:
		m.videoFrame(ms, v)
	}
}

func (m *Muxer) videoFrame(ms int64, v flv.Video) {
	ts := &m.video
	if ts.cfg == nil {
		m.sessionNote("video frames before the first sequence header were dropped")
		return
	}
	au, err := flv.SplitNALUs(v.Payload, ts.lengthSize)
	if err != nil || len(au) == 0 {
		if err != nil {
			m.sessionNote("malformed video frames were dropped (" + err.Error() + ")")
		}
		return
	}
	payload, err := h264.AVCC(au).Marshal()
	if err != nil {
		return
	}
	m.session(ms)
	s := &sample{dts: ms * videoTimeScale / 1000, ms: ms, cts: v.CompositionTime * videoTimeScale / 1000, key: v.KeyFrame, data: payload}
	if ts.inFile && ts.pending != nil && time.Duration(ts.pending.ms-ms)*time.Millisecond > jumpBack {
		m.split(fmt.Sprintf("video timestamps jumped back from %d ms to %d ms", ts.pending.ms, ms))
	}
	if !ts.inFile {
		if !v.KeyFrame {
			if m.file != nil {
				m.file.droppedPre++
			}
			return
		}
		if m.file == nil {
			m.startFile(ms)
		}
		if !m.join(ts, ms) {
			return
		}
	}
	if ts.pending != nil && s.dts <= ts.pending.dts {
		if !ts.backNoted {
			ts.backNoted = true
			m.note(fmt.Sprintf("video timestamps went back (%d ms after %d ms); frames were spaced 1 tick apart", ms, ts.pending.ms))
		}
		s.dts = ts.pending.dts + 1
	}
	m.settle(ts, s)
	if v.KeyFrame && m.opts.MaxDuration > 0 && m.fileAge(ms) >= m.opts.MaxDuration {
		m.split(fmt.Sprintf("the file reached max_duration %v", m.opts.MaxDuration))
		m.startFile(ms)
		m.join(ts, ms)
	} else if v.KeyFrame && m.file.fragStartMs >= 0 && time.Duration(ms-m.file.fragStartMs)*time.Millisecond >= m.opts.FragmentDuration {
		m.cutFragment()
	}
	m.hold(ts, s)
}

func (m *Muxer) onAudio(t flv.Tag) {
	a, err := flv.ParseAudio(t.Body)
	if err != nil {
		m.sessionNote("malformed audio tags were dropped (" + err.Error() + ")")
		return
	}
	ms := int64(t.Timestamp)
	switch a.Format {
	case flv.SoundAAC:
		if a.AACPacketType == flv.AACSequenceHeader {
			tr, err := aacTrack(a.Payload)
			if err != nil {
				m.sessionNote("an AAC config did not parse (" + err.Error() + "); audio waits for a good one")
				return
			}
			m.audio.nominal = 1024
			m.setConfig(&m.audio, tr, ms)
			return
		}
		if m.audio.cfg == nil {
			m.sessionNote("AAC frames before the first AAC config were dropped")
			return
		}
	case flv.SoundMP3:
		tr, n, err := mp3Track(a.Payload)
		if err != nil {
			m.sessionNote("malformed MP3 frames were dropped (" + err.Error() + ")")
			return
		}
		m.audio.nominal = uint32(n)
		m.setConfig(&m.audio, tr, ms)
	default:
		m.sessionNote(fmt.Sprintf("audio is %v, which MP4 files for browsers cannot carry; the recording has video only", a.Format))
		return
	}
	if len(a.Payload) == 0 {
		return
	}
	m.audioFrame(ms, append([]byte(nil), a.Payload...))
}

func (m *Muxer) audioFrame(ms int64, payload []byte) {
	ts := &m.audio
	m.session(ms)
	if ts.inFile && ts.pending != nil && time.Duration(ts.pending.ms-ms)*time.Millisecond > jumpBack {
		m.split(fmt.Sprintf("audio timestamps jumped back from %d ms to %d ms", ts.pending.ms, ms))
	}
	if !ts.inFile {
		if m.file == nil {
			m.startFile(ms)
		}
		if !m.join(ts, ms) {
			return
		}
	}
	rate := int64(ts.fileTrack.TimeScale)
	s := &sample{dts: ms * rate / 1000, ms: ms, key: true, data: payload}
	if p := ts.pending; p != nil {
		// Frames follow each other without holes; FLV's millisecond
		// timestamps only say where, within a frame's length, one starts.
		pred := p.dts + int64(ts.nominal)
		half, overlap := int64(ts.nominal)/2, rate*audioOverlap/1000
		switch d := s.dts - pred; {
		case d >= -half && d <= half:
			s.dts = pred
		case d < -half && d >= -overlap:
			// Frames that overlap a little (a publisher restarting its
			// encoder) are laid end to end.
			if !ts.backNoted {
				ts.backNoted = true
				m.note(fmt.Sprintf("audio frames overlap (%d ms after %d ms, less than a frame); they were laid end to end", ms, p.ms))
			}
			s.dts = pred
		case d < -overlap:
			if !ts.backNoted {
				ts.backNoted = true
				m.note(fmt.Sprintf("audio timestamps went back (%d ms after %d ms)", ms, p.ms))
			}
			s.dts = max(s.dts, p.dts+1)
		}
	}
	m.settle(ts, s)
	if !m.video.inFile {
		if m.opts.MaxDuration > 0 && m.fileAge(ms) >= m.opts.MaxDuration {
			m.split(fmt.Sprintf("the file reached max_duration %v", m.opts.MaxDuration))
			m.startFile(ms)
			m.join(ts, ms)
		} else if m.file.fragStartMs >= 0 && time.Duration(ms-m.file.fragStartMs)*time.Millisecond >= m.opts.FragmentDuration {
			m.cutFragment()
		}
	}
	m.hold(ts, s)
}

// setConfig takes a track's new decoder configuration. One that differs
// from the configuration the current file holds ends the file: a decoder
// cannot change it mid-file (case C33).
func (m *Muxer) setConfig(ts *trackState, tr Track, ms int64) {
	if ts.cfg != nil && ts.cfg.same(tr) {
		return
	}
	ts.cfg = &tr
	if m.file != nil && ts.inFile && !ts.fileTrack.same(tr) {
		at := ms
		if m.haveSession {
			at -= m.sessionMs
		}
		m.split(fmt.Sprintf("%s config changed: %s at %s of the publish", ts.name, ts.fileTrack.change(tr), clock(at)))
	}
}

// split ends the current file; the next starts with the same reason.
func (m *Muxer) split(reason string) {
	if m.file != nil {
		m.endFile(reason)
	}
	m.nextReason = reason
}

func (m *Muxer) session(ms int64) {
	if !m.haveSession {
		m.sessionMs, m.haveSession = ms, true
	}
}

func (m *Muxer) fileAge(ms int64) time.Duration {
	return time.Duration(ms-m.file.firstMs) * time.Millisecond
}

func (m *Muxer) startFile(ms int64) {
	m.seq++
	reason := m.nextReason
	if reason == "" {
		reason = "publish started"
	}
	m.nextReason = ""
	m.file = &fileState{firstMs: ms, fragStartMs: -1, sum: FileSummary{
		Seq: m.seq, StartReason: reason, At: time.Duration(ms-m.sessionMs) * time.Millisecond,
		Notes: append([]string(nil), m.sessionNotes...),
	}}
	if err := m.sink.StartFile(FileStart{Seq: m.seq, Reason: reason, At: m.file.sum.At}); err != nil {
		m.fail(err)
	}
}

// join adds a track to the current file at ms. It reports false when the
// sample at ms falls before the file's time zero and must be dropped.
func (m *Muxer) join(ts *trackState, ms int64) bool {
	if m.file.haveBase && ms < m.file.baseMs {
		return false
	}
	ts.inFile, ts.fileTrack, ts.firstMs, ts.lastMs = true, *ts.cfg, ms, ms
	ts.pending, ts.ready, ts.lastDelta, ts.endDTS, ts.backNoted = nil, nil, 0, 0, false
	ts.delay, ts.delaySet = 0, false
	m.file.sum.Tracks = append(m.file.sum.Tracks, ts.fileTrack)
	if len(m.file.sum.Tracks) == 2 && m.file.sum.Tracks[0].ID > m.file.sum.Tracks[1].ID {
		m.file.sum.Tracks[0], m.file.sum.Tracks[1] = m.file.sum.Tracks[1], m.file.sum.Tracks[0]
	}
	for _, o := range m.tracks() {
		if o != ts && o.inFile {
			if late := time.Duration(ms-o.firstMs) * time.Millisecond; late >= lateStart {
				m.note(fmt.Sprintf("%s starts %.1f s after %s, at %s", ts.name, late.Seconds(), o.name, clock(ms-m.file.firstMs)))
			}
		}
	}
	return true
}

// settle gives the track's pending sample its duration, now that the next
// sample s is known, and moves it into the fragment being built.
func (m *Muxer) settle(ts *trackState, s *sample) {
	p := ts.pending
	if p == nil {
		return
	}
	ts.pending = nil
	gap := videoGap
	if ts.id == AudioTrackID {
		gap = audioGap
	}
	if d := time.Duration(s.ms-p.ms) * time.Millisecond; d >= gap {
		m.note(fmt.Sprintf("%s gap of %.1f s at %s", ts.name, d.Seconds(), clock(p.ms-m.file.firstMs)))
	}
	p.dur = uint32(max(s.dts-p.dts, 1))
	ts.lastDelta = p.dur
	m.ready(ts, p)
}

func (m *Muxer) ready(ts *trackState, p *sample) {
	ts.ready = append(ts.ready, p)
	if m.file.fragStartMs < 0 {
		m.file.fragStartMs = p.ms
	}
	m.file.fragBytes += len(p.data)
	if m.file.fragBytes >= m.opts.MaxFragmentBytes {
		m.cutFragment()
	}
}

// hold makes s the track's pending sample.
func (m *Muxer) hold(ts *trackState, s *sample) {
	if m.err != nil || m.file == nil || !ts.inFile {
		return
	}
	ts.pending, ts.lastMs = s, s.ms
}

// cutFragment writes the samples built up as one fragment.
func (m *Muxer) cutFragment() {
	f := m.file
	if m.err != nil || f == nil {
		return
	}
	if !f.haveBase {
		f.baseMs, f.haveBase = f.firstMs, true
		for _, ts := range m.tracks() {
			if ts.inFile {
				f.baseMs = min(f.baseMs, ts.firstMs)
			}
		}
	}
	part := fmp4.Part{SequenceNumber: f.fragSeq + 1}
	info := FragmentInfo{Key: true}
	for _, ts := range m.tracks() {
		if !ts.inFile || len(ts.ready) == 0 {
			continue
		}
		base := f.baseMs * int64(ts.fileTrack.TimeScale) / 1000
		start := max(ts.ready[0].dts-base, 0)
		if !ts.delaySet {
			// A track starting late keeps a time line of its own from
			// zero; Header's edit list puts it at its place.
			ts.delay, ts.delaySet = start, true
		}
		pt := &fmp4.PartTrack{ID: ts.id, BaseTime: uint64(start - ts.delay)}
		var dur uint64
		for _, s := range ts.ready {
			pt.Samples = append(pt.Samples, &fmp4.Sample{
				Duration: s.dur, PTSOffset: s.cts, IsNonSyncSample: !s.key, Payload: s.data,
			})
			dur += uint64(s.dur)
		}
		if ts.id == VideoTrackID {
			info.Key = ts.ready[0].key
		}
		last := ts.ready[len(ts.ready)-1]
		ts.endDTS = last.dts + int64(last.dur)
		info.Spans = append(info.Spans, Span{Track: ts.id, Start: uint64(start), Duration: dur})
		part.Tracks = append(part.Tracks, pt)
		ts.ready = nil
	}
	f.fragStartMs, f.fragBytes = -1, 0
	if len(part.Tracks) == 0 {
		return
	}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		m.fail(fmt.Errorf("write fragment %d: %w", part.SequenceNumber, err))
		return
	}
	f.fragSeq++
	f.sum.Fragments++
	info.Size = int64(buf.Len())
	if err := m.sink.WriteFragment(buf.Bytes(), info); err != nil {
		m.fail(err)
	}
}

// endFile flushes the current file and reports it.
func (m *Muxer) endFile(reason string) {
	f := m.file
	for _, ts := range m.tracks() {
		if !ts.inFile || ts.pending == nil {
			continue
		}
		p := ts.pending
		ts.pending = nil
		switch {
		case ts.id == AudioTrackID:
			p.dur = ts.nominal
		case ts.lastDelta > 0:
			p.dur = ts.lastDelta
		default:
			p.dur = videoTimeScale / 25
		}
		m.ready(ts, p)
	}
	m.cutFragment()
	if m.err != nil {
		return
	}
	var end time.Duration
	for _, ts := range m.tracks() {
		if ts.inFile && f.haveBase {
			base := f.baseMs * int64(ts.fileTrack.TimeScale) / 1000
			end = max(end, scale(ts.endDTS-base, ts.fileTrack.TimeScale))
		}
	}
	for _, ts := range m.tracks() {
		if !ts.inFile || !f.haveBase {
			continue
		}
		base := f.baseMs * int64(ts.fileTrack.TimeScale) / 1000
		if e := scale(ts.endDTS-base, ts.fileTrack.TimeScale); end-e >= earlyEnd {
			m.note(fmt.Sprintf("%s ends %.1f s before the file does, at %s", ts.name, (end - e).Seconds(), clock(e.Milliseconds())))
		}
	}
	if f.droppedPre > 0 {
		m.note(fmt.Sprintf("%d video frames before the file's first keyframe were dropped", f.droppedPre))
	}
	f.sum.EndReason = reason
	f.sum.Duration = end
	for _, ts := range m.tracks() {
		ts.inFile, ts.pending, ts.ready = false, nil, nil
	}
	m.file = nil
	if err := m.sink.EndFile(f.sum); err != nil {
		m.fail(err)
	}
}

func (m *Muxer) fail(err error) {
	if m.err == nil {
		m.err = err
	}
}

// note adds an oddity to the current file's summary.
func (m *Muxer) note(s string) {
	if m.file != nil && len(m.file.sum.Notes) < maxNoteLen {
		m.file.sum.Notes = append(m.file.sum.Notes, s)
	}
}

// sessionNote adds an oddity of the whole publish, once.
func (m *Muxer) sessionNote(s string) {
	if m.noted[s] || len(m.sessionNotes) >= maxNoteLen {
		return
	}
	m.noted[s] = true
	m.sessionNotes = append(m.sessionNotes, s)
	m.note(s)
}

func scale(v int64, timescale uint32) time.Duration {
	return time.Duration(v) * time.Second / time.Duration(timescale)
}

// clock formats milliseconds as hh:mm:ss.
func clock(ms int64) string {
	if ms < 0 {
		ms = 0
	}
	s := ms / 1000
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
