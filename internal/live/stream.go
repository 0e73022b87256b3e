package live

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
)

// Tracks says which elementary streams a stream carries.
type Tracks struct {
	Audio, Video bool
}

// Stream is one publish session of a stream name. The publisher writes
// tags with WriteTag and ends the session with Close; readers Subscribe.
type Stream struct {
	hub    *Hub
	key    Key
	id     string
	remote string
	start  time.Time
	done   chan struct{} // closed by Close
	known  chan struct{} // closed once the track set is final

	closeOnce sync.Once

	mu sync.Mutex // guards everything below
	// Track state.
	declared    *Tracks // from onMetaData, when the publisher sent it
	seen        Tracks  // tracks that carried at least one tag
	tracksFinal bool
	firstTS     uint32
	haveFirstTS bool
	// Codec state.
	video       VideoInfo
	audio       AudioInfo
	videoSeq    *flv.Tag // latest video sequence header
	audioSeq    *flv.Tag // latest AAC sequence header
	videoConfig int      // bumped when the video decoder configuration changes
	audioConfig int      // bumped when the audio decoder configuration changes
	// GOP cache: the tags from the latest video keyframe on.
	gop      []flv.Tag
	gopBytes int
	gopOver  bool // the current GOP outgrew the cache; wait for the next keyframe
	// Monitoring.
	lastVideoTS, lastAudioTS uint32
	haveVideoTS, haveAudioTS bool
	warnings                 map[string]string
	videoRate, audioRate     rateWindow
	readers                  map[*Reader]struct{}
}

func newStream(h *Hub, key Key, remote string) *Stream {
	return &Stream{
		hub: h, key: key, id: newID(), remote: remote, start: h.now(),
		done: make(chan struct{}), known: make(chan struct{}),
		readers: map[*Reader]struct{}{}, warnings: map[string]string{},
	}
}

// Key returns the stream's name.
func (s *Stream) Key() Key { return s.key }

// ID returns the publish session's ID, unique per publish.
func (s *Stream) ID() string { return s.id }

// Started returns when the publish began.
func (s *Stream) Started() time.Time { return s.start }

// Done is closed when the publisher has left.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Close ends the publish session: readers get ErrStreamEnded after the
// tags already queued, and the name is free for a new publisher.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		s.hub.remove(s)
		s.mu.Lock()
		s.finalTracksLocked()
		s.mu.Unlock()
		close(s.done)
		s.hub.log().Info("stream unpublished", "stream", s.key.String(), "publisher", s.remote,
			"session", s.id, "duration", s.hub.now().Sub(s.start).Round(time.Millisecond).String())
	})
}

// WaitTracks returns the stream's track set once it is final: at once when
// the publisher's onMetaData declared it, otherwise after the track probe.
func (s *Stream) WaitTracks(ctx context.Context) (Tracks, error) {
	select {
	case <-s.known:
	case <-ctx.Done():
		return Tracks{}, fmt.Errorf("stream %s: waiting for its tracks: %w", s.key, ctx.Err())
	}
	return s.Tracks(), nil
}

// Tracks returns the tracks known so far.
func (s *Stream) Tracks() Tracks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tracksLocked()
}

func (s *Stream) tracksLocked() Tracks {
	t := s.seen
	if s.declared != nil {
		t.Audio = t.Audio || s.declared.Audio
		t.Video = t.Video || s.declared.Video
	}
	return t
}

func (s *Stream) finalTracksLocked() {
	if !s.tracksFinal {
		s.tracksFinal = true
		close(s.known)
	}
}

// WriteTag adds one tag from the publisher. Malformed tags are dropped and
// noted in the stream's warnings; the returned error is only for logging.
func (s *Stream) WriteTag(t flv.Tag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	switch t.Type {
	case flv.TagScript:
		s.onScript(t)
		return nil
	case flv.TagVideo:
		err = s.onVideo(t)
	case flv.TagAudio:
		err = s.onAudio(t)
	default:
		return nil
	}
	if err != nil {
		s.warnings["malformed"] = err.Error()
		return err
	}
	if !s.haveFirstTS {
		s.firstTS, s.haveFirstTS = t.Timestamp, true
	}
	if !s.tracksFinal && ((s.seen.Audio && s.seen.Video) ||
		time.Duration(t.Timestamp-s.firstTS)*time.Millisecond >= s.probe()) {
		s.finalTracksLocked()
	}
	for r := range s.readers {
		if !r.offer(t) {
			delete(s.readers, r)
		}
	}
	return nil
}

func (s *Stream) probe() time.Duration {
	if s.hub.TrackProbe > 0 {
		return s.hub.TrackProbe
	}
	return DefaultTrackProbe
}

// onScript reads onMetaData: its audiocodecid / videocodecid keys say
// which tracks the publisher will send (ffmpeg and OBS write only the keys
// of tracks they have).
func (s *Stream) onScript(t flv.Tag) {
	sc, err := flv.ParseScript(t.Body)
	if err != nil || sc.Name != "onMetaData" {
		return
	}
	d := Tracks{}
	_, d.Audio = sc.Fields["audiocodecid"]
	_, d.Video = sc.Fields["videocodecid"]
	if v, ok := sc.Fields["hasAudio"].(bool); ok {
		d.Audio = v
	}
	if v, ok := sc.Fields["hasVideo"].(bool); ok {
		d.Video = v
	}
	if !d.Audio && !d.Video {
		return // a metadata object that says nothing about tracks
	}
	s.declared = &d
	if f, ok := sc.Fields["framerate"].(float64); ok {
		s.video.DeclaredFPS = f
	}
	s.finalTracksLocked()
}

func (s *Stream) onVideo(t flv.Tag) error {
	v, err := flv.ParseVideo(t.Body)
	if err != nil {
		return err
	}
	s.seen.Video = true
	s.video.Codec = v.Codec.String()
	s.checkTS("video", t.Timestamp, &s.lastVideoTS, &s.haveVideoTS)
	switch v.PacketType {
	case flv.VideoSequenceHeader:
		s.video.SequenceHeaders++
		if s.videoSeq == nil || !bytes.Equal(s.videoSeq.Body, t.Body) {
			s.videoConfig++
			s.video.describe(v)
		}
		cp := t
		s.videoSeq = &cp
		return nil
	case flv.VideoNALU:
		s.videoRate.add(t.Timestamp, len(t.Body), 1)
		if v.KeyFrame {
			s.video.KeyFrames++
			s.gop, s.gopBytes, s.gopOver = s.gop[:0:0], 0, false
		}
		s.cache(t)
	}
	return nil
}

func (s *Stream) onAudio(t flv.Tag) error {
	a, err := flv.ParseAudio(t.Body)
	if err != nil {
		return err
	}
	s.seen.Audio = true
	s.audio.Format = a.Format
	s.audio.Codec = a.Format.String()
	s.checkTS("audio", t.Timestamp, &s.lastAudioTS, &s.haveAudioTS)
	if a.Format == flv.SoundAAC && a.AACPacketType == flv.AACSequenceHeader {
		s.audio.SequenceHeaders++
		if s.audioSeq == nil || !bytes.Equal(s.audioSeq.Body, t.Body) {
			s.audioConfig++
			s.audio.describeAAC(a.Payload)
		}
		cp := t
		s.audioSeq = &cp
		return nil
	}
	if a.Format != flv.SoundAAC {
		s.audio.describeRaw(a)
	}
	s.audioRate.add(t.Timestamp, len(t.Body), 1)
	s.cache(t)
	return nil
}

// cache appends t to the GOP cache when a GOP is open and fits.
func (s *Stream) cache(t flv.Tag) {
	if len(s.gop) == 0 && !(t.Type == flv.TagVideo && isKey(t)) {
		return // no keyframe yet: nothing a reader could start from
	}
	if s.gopOver {
		return
	}
	limit := s.hub.GOPCacheBytes
	if limit <= 0 {
		limit = DefaultGOPCacheBytes
	}
	if s.gopBytes+len(t.Body) > limit {
		s.gop, s.gopBytes, s.gopOver = nil, 0, true
		s.warnings["gop_cache"] = fmt.Sprintf("a GOP outgrew the %d-byte GOP cache; new viewers wait for the next keyframe", limit)
		return
	}
	s.gop = append(s.gop, t)
	s.gopBytes += len(t.Body)
}

func isKey(t flv.Tag) bool {
	v, err := flv.ParseVideo(t.Body)
	return err == nil && v.KeyFrame && v.PacketType == flv.VideoNALU
}

// checkTS notes timestamps going backwards on one track.
func (s *Stream) checkTS(track string, ts uint32, last *uint32, have *bool) {
	if *have && ts < *last {
		s.warnings["timestamps"] = fmt.Sprintf("%s timestamps went backwards: %d ms after %d ms", track, ts, *last)
	}
	*last, *have = ts, true
}

// Config returns the stream's current sequence headers and counters that
// change with every new decoder configuration, for packagers that must
// mark a discontinuity.
func (s *Stream) Config() (videoSeq, audioSeq *flv.Tag, videoGen, audioGen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.videoSeq, s.audioSeq, s.videoConfig, s.audioConfig
}

// AudioFormat returns the audio codec seen so far and whether any audio
// arrived.
func (s *Stream) AudioFormat() (flv.SoundFormat, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audio.Format, s.seen.Audio
}
