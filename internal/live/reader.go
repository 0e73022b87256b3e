package live

import (
	"context"
	"fmt"
	"sync"

	"github.com/strata-cdn/strata/internal/flv"
)

// ReaderOptions select what a reader receives.
type ReaderOptions struct {
	// Audio and Video select the tracks; at least one must be set.
	Audio, Video bool
	// Protocol names the reader in viewer counts ("flv"); empty readers,
	// such as packagers, are not counted as viewers.
	Protocol string
	// Queue overrides the hub's ReaderQueue when positive.
	Queue int
	// AnyTracks subscribes to the selected tracks even when the stream
	// does not have them (yet): a recorder subscribes at publish, before
	// the track set is known, and keeps a track that starts late (case
	// C34).
	AnyTracks bool
}

// Reader receives a stream's tags: first its sequence headers and GOP
// cache, then live tags. Its queue is bounded: a reader that falls behind
// is dropped (ErrReaderTooSlow) rather than slowing the publisher or other
// readers.
type Reader struct {
	s       *Stream
	opts    ReaderOptions
	initial []flv.Tag     // sequence headers and GOP cache, sent first
	ch      chan flv.Tag  // live tags; written only under s.mu
	dropped chan struct{} // closed when the queue overflowed

	closeOnce sync.Once
}

// Subscribe adds a reader for the selected tracks. It fails with an error
// wrapping ErrNoTrack when the stream lacks a selected track; call it after
// WaitTracks so the track set is final.
func (s *Stream) Subscribe(opts ReaderOptions) (*Reader, error) {
	if !opts.Audio && !opts.Video {
		return nil, fmt.Errorf("stream %s: a reader must select audio, video or both: %w", s.key, ErrNoTrack)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return nil, fmt.Errorf("stream %s: %w", s.key, ErrStreamEnded)
	default:
	}
	t := s.tracksLocked()
	if opts.AnyTracks {
		t = Tracks{Audio: true, Video: true}
	}
	if opts.Video && !t.Video {
		return nil, fmt.Errorf("stream %s has no video track (it is audio-only): %w", s.key, ErrNoTrack)
	}
	if opts.Audio && !t.Audio {
		return nil, fmt.Errorf("stream %s has no audio track (it is video-only): %w", s.key, ErrNoTrack)
	}
	q := opts.Queue
	if q <= 0 {
		q = s.hub.ReaderQueue
	}
	if q <= 0 {
		q = DefaultReaderQueue
	}
	r := &Reader{s: s, opts: opts, ch: make(chan flv.Tag, q), dropped: make(chan struct{})}
	if opts.Video && s.videoSeq != nil {
		r.initial = append(r.initial, *s.videoSeq)
	}
	if opts.Audio && s.audioSeq != nil {
		r.initial = append(r.initial, *s.audioSeq)
	}
	for _, tag := range s.gop {
		if r.wants(tag) {
			r.initial = append(r.initial, tag)
		}
	}
	s.readers[r] = struct{}{}
	return r, nil
}

func (r *Reader) wants(t flv.Tag) bool {
	return (t.Type == flv.TagVideo && r.opts.Video) || (t.Type == flv.TagAudio && r.opts.Audio)
}

// offer queues t without blocking; it reports false when the reader must
// be removed (queue full). Called with s.mu held.
func (r *Reader) offer(t flv.Tag) bool {
	if !r.wants(t) {
		return true
	}
	select {
	case r.ch <- t:
		return true
	default:
		close(r.dropped)
		return false
	}
}

// Read returns the next tag. After the publisher leaves it returns the
// tags still queued, then an error wrapping ErrStreamEnded.
func (r *Reader) Read(ctx context.Context) (flv.Tag, error) {
	if len(r.initial) > 0 {
		t := r.initial[0]
		r.initial = r.initial[1:]
		return t, nil
	}
	select {
	case t := <-r.ch:
		return t, nil
	default:
	}
	select {
	case t := <-r.ch:
		return t, nil
	case <-r.dropped:
		return flv.Tag{}, fmt.Errorf("stream %s: %w", r.s.key, ErrReaderTooSlow)
	case <-r.s.done:
		select {
		case t := <-r.ch:
			return t, nil
		default:
		}
		return flv.Tag{}, fmt.Errorf("stream %s: %w", r.s.key, ErrStreamEnded)
	case <-ctx.Done():
		return flv.Tag{}, ctx.Err()
	}
}

// Pending reports how many tags are ready without blocking, so writers
// can batch before flushing.
func (r *Reader) Pending() int { return len(r.initial) + len(r.ch) }

// Close removes the reader from its stream.
func (r *Reader) Close() {
	r.closeOnce.Do(func() {
		r.s.mu.Lock()
		delete(r.s.readers, r)
		r.s.mu.Unlock()
	})
}
