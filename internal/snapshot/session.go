package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
)

// session takes the snapshots of one publish session. Its reader
// goroutine (read) keeps the latest keyframe; its shooter goroutine
// (shoot) makes and uploads the images, one at a time.
type session struct {
	t   *Taker
	cfg Config
	s   Session
	src Source
	log *slog.Logger
	// ctx ends when the shooter returns (or the Taker is closed); it
	// stops the reader, the target checks and the image in progress.
	ctx    context.Context
	cancel context.CancelFunc
	// kf holds a wake-up for the shooter: a keyframe arrived. The reader
	// never blocks on it: a full channel already says so.
	kf chan struct{}
	// readDone is closed when the reader has returned.
	readDone chan struct{}

	mu sync.Mutex // guards the fields below
	// From the reader.
	params    *Params // the latest sequence header's
	paramsErr error   // why the latest sequence header is unusable
	key       []byte  // the latest keyframe's NAL units (length-prefixed)
	keyCodec  flv.VideoCodec
	keySeq    int64  // counts keyframes; 0: none yet
	failure   string // why reading stopped, if it failed
	// From the shooter.
	noVideo    bool // the publish has no video track
	noKeyframe bool // an interval passed without a keyframe
	encodeErr  error
	uploadErr  error
	uploadAt   time.Time
	count      int
	last       *Shot
}

func newSession(t *Taker, cfg Config, s Session, src Source) *session {
	ctx, cancel := context.WithCancel(t.ctx)
	return &session{t: t, cfg: cfg, s: s, src: src, ctx: ctx, cancel: cancel,
		log: t.log().With("stream", s.key(), "session", s.ID),
		kf:  make(chan struct{}, 1), readDone: make(chan struct{})}
}

// read keeps the latest sequence header and keyframe until the publish
// ends. It does no more than parse tag headers, so it keeps up with any
// stream and the hub never drops it for being slow.
func (ss *session) read() {
	defer close(ss.readDone)
	defer ss.src.Close()
	for {
		tag, err := ss.src.Read(ss.ctx)
		if errors.Is(err, io.EOF) || ss.ctx.Err() != nil {
			return
		}
		if err != nil {
			ss.log.Error("snapshots stopped", "err", err.Error())
			ss.mu.Lock()
			ss.failure = "snapshots stopped: " + err.Error()
			ss.mu.Unlock()
			return
		}
		if tag.Type != flv.TagVideo {
			continue
		}
		v, err := flv.ParseVideo(tag.Body)
		if err != nil {
			continue // the hub notes malformed tags in the stream's warnings
		}
		switch {
		case v.PacketType == flv.VideoSequenceHeader:
			p, err := ParseParams(v)
			ss.mu.Lock()
			if err != nil {
				ss.params, ss.paramsErr = nil, fmt.Errorf("video sequence header: %w", err)
			} else {
				ss.params, ss.paramsErr = &p, nil
			}
			ss.mu.Unlock()
		case v.PacketType == flv.VideoNALU && v.KeyFrame && !v.Command:
			ss.mu.Lock()
			ss.key, ss.keyCodec = v.Payload, v.Codec // tags are shared and never changed: no copy
			ss.keySeq++
			ss.noVideo, ss.noKeyframe = false, false
			ss.mu.Unlock()
			select {
			case ss.kf <- struct{}{}:
			default:
			}
		}
	}
}

// shoot takes a snapshot of the first keyframe, then one every interval
// of the latest keyframe; when no keyframe arrived since the last
// snapshot, it takes the next one as soon as it comes.
func (ss *session) shoot() {
	defer ss.t.ended(ss)
	defer ss.cancel()
	if err := ss.t.encoder().Ready(); err != nil {
		ss.setEncode(err)
	}
	video := make(chan bool, 1)
	ss.t.wg.Add(1)
	go func() {
		defer ss.t.wg.Done()
		if v, err := ss.src.HasVideo(ss.ctx); err == nil {
			video <- v
		}
	}()
	tick := time.NewTicker(ss.cfg.Interval)
	defer tick.Stop()
	pending := true // take the next keyframe when it comes
	var done int64  // the keyframe last taken
	for {
		select {
		case <-ss.readDone:
			return
		case <-ss.ctx.Done():
			return
		case v := <-video:
			if !v {
				ss.mu.Lock()
				ss.noVideo = ss.keySeq == 0
				ss.mu.Unlock()
				ss.log.Warn("stream has no video track; no snapshots")
			}
		case <-ss.kf:
			if pending {
				pending = !ss.take(&done, false)
			}
		case <-tick.C:
			pending = !ss.take(&done, true)
		}
	}
}

// take snapshots the latest keyframe unless it was taken already (*done
// is its number; a keyframe whose image or upload failed is tried again);
// it reports whether it tried. tick says an interval has
// passed, so a stream without any keyframe by then is noted.
func (ss *session) take(done *int64, tick bool) bool {
	ss.mu.Lock()
	params, paramsErr, payload, codec, seq := ss.params, ss.paramsErr, ss.key, ss.keyCodec, ss.keySeq
	if seq == 0 && tick && !ss.noVideo {
		ss.noKeyframe = true
	}
	ss.mu.Unlock()
	if seq == 0 || seq == *done {
		return false
	}
	img, err := ss.image(params, paramsErr, codec, payload)
	if ss.ctx.Err() != nil {
		return true // cut short by shutdown: not a failure to report
	}
	ss.setEncode(err)
	if err != nil {
		return true // the next tick tries again
	}
	now := ss.t.now()
	prefix := ss.prefix()
	shot := &Shot{Key: prefix + LatestName, Time: now, Size: len(img)}
	if !ss.cfg.Overwrite {
		shot.Key = prefix + now.UTC().Format("20060102-150405.000") + ".jpg"
	}
	err = ss.put(shot.Key, img)
	if err == nil && !ss.cfg.Overwrite {
		err = ss.put(prefix+LatestName, img)
	}
	ss.setUpload(err, shot)
	if err == nil {
		*done = seq
	}
	return true
}

// image makes the JPEG of one keyframe.
func (ss *session) image(params *Params, paramsErr error, codec flv.VideoCodec, payload []byte) ([]byte, error) {
	switch {
	case codec != flv.VideoH264 && codec != flv.VideoH265:
		return nil, fmt.Errorf("the stream's video is %v: %w (snapshots decode H.264 and H.265)", codec, ErrCodec)
	case paramsErr != nil:
		return nil, paramsErr
	case params == nil:
		return nil, fmt.Errorf("a keyframe came before any video sequence header (SPS/PPS); nothing can decode it")
	case params.Codec != codec:
		return nil, fmt.Errorf("a %v keyframe after a %v sequence header", codec, params.Codec)
	}
	f, err := Keyframe(*params, payload)
	if err != nil {
		return nil, fmt.Errorf("keyframe: %w", err)
	}
	select {
	case ss.t.slots <- struct{}{}:
		defer func() { <-ss.t.slots }()
	case <-ss.ctx.Done():
		return nil, ss.ctx.Err()
	}
	return ss.t.encoder().JPEG(ss.ctx, f, ss.cfg.Width)
}

func (ss *session) put(key string, img []byte) error {
	timeout := ss.t.UploadTimeout
	if timeout <= 0 {
		timeout = DefaultUploadTimeout
	}
	ctx, cancel := context.WithTimeout(ss.ctx, timeout)
	defer cancel()
	return ss.cfg.Store.Put(ctx, key, img, "image/jpeg")
}

// prefix expands the key prefix's placeholders for this session.
func (ss *session) prefix() string {
	return strings.NewReplacer("{app}", ss.s.App, "{stream}", ss.s.Stream, "{session}", ss.s.ID,
		"{date}", ss.s.Started.UTC().Format("2006-01-02")).Replace(ss.cfg.Prefix)
}

// setEncode records an image's outcome, logging changes only.
func (ss *session) setEncode(err error) {
	ss.mu.Lock()
	prev := ss.encodeErr
	ss.encodeErr = err
	ss.mu.Unlock()
	switch {
	case err != nil && (prev == nil || prev.Error() != err.Error()):
		ss.log.Error("snapshot failed", "err", err.Error())
	case err == nil && prev != nil:
		ss.log.Info("snapshots are made again")
	}
}

// setUpload records an upload's outcome, logging changes and the first
// snapshot of the session.
func (ss *session) setUpload(err error, shot *Shot) {
	ss.mu.Lock()
	prev, first := ss.uploadErr, ss.count == 0
	ss.uploadErr, ss.uploadAt = err, ss.t.now()
	if err == nil {
		ss.count++
		ss.last = shot
	}
	ss.mu.Unlock()
	switch {
	case err != nil && (prev == nil || prev.Error() != err.Error()):
		ss.log.Error("snapshot upload failed", "key", shot.Key, "target", ss.cfg.Store.String(), "err", err.Error())
	case err == nil && first:
		ss.log.Info("first snapshot uploaded", "key", shot.Key, "size", shot.Size, "target", ss.cfg.Store.String())
	case err == nil && prev != nil:
		ss.log.Info("snapshot uploads work again", "key", shot.Key)
	case err == nil:
		ss.log.Debug("snapshot uploaded", "key", shot.Key, "size", shot.Size)
	}
}
