package livehttp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/live"
)

// writeTimeout cuts off an HTTP-FLV viewer whose connection accepts
// nothing for this long.
const writeTimeout = 30 * time.Second

// serveFLV streams key as HTTP-FLV: header, onMetaData, sequence headers,
// the GOP cache, then live tags until the publisher or the viewer leaves.
func (h *Handler) serveFLV(w http.ResponseWriter, r *http.Request, key live.Key) {
	s, err := h.Hub.Get(key)
	if err != nil {
		h.notPublished(w, key)
		return
	}
	q := r.URL.Query()
	onlyAudio, onlyVideo := q.Get("onlyaudio") == "1", q.Get("onlyvideo") == "1"
	if onlyAudio && onlyVideo {
		h.fail(w, http.StatusBadRequest, "onlyaudio=1 and onlyvideo=1 exclude each other; give one or neither")
		return
	}
	wctx, cancel := context.WithTimeout(r.Context(), h.trackWait())
	tracks, err := s.WaitTracks(wctx)
	cancel()
	if err != nil {
		h.fail(w, http.StatusServiceUnavailable, "stream %s: its tracks are not known yet (no onMetaData and under 2s of media); retry", key)
		return
	}
	// Case C31: a track the stream lacks fails at once, with the reason.
	want := tracks
	switch {
	case onlyAudio && !tracks.Audio:
		h.fail(w, http.StatusNotFound, "stream %s has no audio track (it is video-only); drop onlyaudio=1 to play its video", key)
		return
	case onlyVideo && !tracks.Video:
		h.fail(w, http.StatusNotFound, "stream %s has no video track (it is audio-only); drop onlyvideo=1 to play its audio", key)
		return
	case onlyAudio:
		want.Video = false
	case onlyVideo:
		want.Audio = false
	}
	if !h.allowPlay(w, r, key, "flv") {
		return
	}
	rd, err := s.Subscribe(live.ReaderOptions{Audio: want.Audio, Video: want.Video, Protocol: "flv"})
	if err != nil {
		if errors.Is(err, live.ErrStreamEnded) {
			h.notPublished(w, key)
			return
		}
		h.fail(w, http.StatusNotFound, "%v", err)
		return
	}
	defer rd.Close()

	w.Header().Set("Content-Type", "video/x-flv")
	// A live FLV response never ends and is never the same twice: no
	// cache, including the edge's, may store it.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Strata-Tracks", trackNames(want))
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	// Case C32: the header flags and onMetaData declare exactly the tracks
	// sent, so players do not wait for a missing one.
	buf := flv.Header(want.Audio, want.Video)
	if md, err := flv.Metadata(metadataFields(s.Status(), want)); err == nil {
		buf = flv.AppendTag(buf, flv.Tag{Type: flv.TagScript, Body: md})
	}
	if _, err := w.Write(buf); err != nil || r.Method == http.MethodHead {
		return
	}
	_ = rc.Flush()
	for {
		buf = buf[:0]
		for {
			t, err := rd.Read(r.Context())
			if err != nil {
				if errors.Is(err, live.ErrReaderTooSlow) {
					h.log().Info("http-flv viewer dropped", "stream", key.String(), "remote", r.RemoteAddr, "err", err)
				}
				if len(buf) > 0 {
					_, _ = w.Write(buf)
				}
				return
			}
			buf = flv.AppendTag(buf, t)
			if rd.Pending() == 0 || len(buf) > 256<<10 {
				break
			}
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func trackNames(t live.Tracks) string {
	switch {
	case t.Audio && t.Video:
		return "audio, video"
	case t.Audio:
		return "audio"
	default:
		return "video"
	}
}

// metadataFields builds onMetaData for the tracks sent (E.5).
func metadataFields(st live.Status, want live.Tracks) []flv.Field {
	f := []flv.Field{{Name: "hasAudio", Value: want.Audio}, {Name: "hasVideo", Value: want.Video}}
	if want.Video {
		f = append(f, flv.Field{Name: "videocodecid", Value: float64(videoCodecID(st.Video.Codec))})
		if st.Video.Width > 0 {
			f = append(f, flv.Field{Name: "width", Value: float64(st.Video.Width)}, flv.Field{Name: "height", Value: float64(st.Video.Height)})
		}
		if st.Video.DeclaredFPS > 0 {
			f = append(f, flv.Field{Name: "framerate", Value: st.Video.DeclaredFPS})
		}
	}
	if want.Audio {
		f = append(f, flv.Field{Name: "audiocodecid", Value: float64(st.Audio.Format)})
		if st.Audio.SampleRate > 0 {
			f = append(f, flv.Field{Name: "audiosamplerate", Value: float64(st.Audio.SampleRate)}, flv.Field{Name: "stereo", Value: st.Audio.Channels == 2})
		}
	}
	return append(f, flv.Field{Name: "encoder", Value: "Strata"})
}

func videoCodecID(name string) flv.VideoCodec {
	if name == flv.VideoH265.String() {
		return flv.VideoH265
	}
	return flv.VideoH264
}
