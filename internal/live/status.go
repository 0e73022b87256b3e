package live

import (
	"fmt"
	"sort"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/strata-cdn/strata/internal/flv"
)

// VideoInfo describes a stream's video track.
type VideoInfo struct {
	Codec   string `json:"codec,omitempty"`
	Profile string `json:"profile,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	// DeclaredFPS is the frame rate in the SPS timing or onMetaData.
	DeclaredFPS float64 `json:"declared_fps,omitempty"`
	// SequenceHeaders counts AVC/HEVC sequence headers received.
	SequenceHeaders int   `json:"sequence_headers"`
	KeyFrames       int64 `json:"key_frames"`
}

// AudioInfo describes a stream's audio track.
type AudioInfo struct {
	Format     flv.SoundFormat `json:"-"`
	Codec      string          `json:"codec,omitempty"`
	Profile    string          `json:"profile,omitempty"`
	SampleRate int             `json:"sample_rate,omitempty"`
	Channels   int             `json:"channels,omitempty"`
	// SequenceHeaders counts AAC sequence headers received.
	SequenceHeaders int `json:"sequence_headers"`
}

func (v *VideoInfo) describe(tag flv.Video) {
	switch tag.Codec {
	case flv.VideoH264:
		c, err := flv.ParseAVCConfig(tag.Payload)
		if err != nil {
			return
		}
		var sps h264.SPS
		if sps.Unmarshal(c.SPS[0]) != nil {
			return
		}
		v.Width, v.Height = sps.Width(), sps.Height()
		v.Profile = avcProfile(sps.ProfileIdc)
		if f := sps.FPS(); f > 0 {
			v.DeclaredFPS = f
		}
	case flv.VideoH265:
		c, err := flv.ParseHEVCConfig(tag.Payload)
		if err != nil {
			return
		}
		var sps h265.SPS
		if sps.Unmarshal(c.SPS[0]) != nil {
			return
		}
		v.Width, v.Height = sps.Width(), sps.Height()
		v.Profile = fmt.Sprintf("profile %d", sps.ProfileTierLevel.GeneralProfileIdc)
		if f := sps.FPS(); f > 0 {
			v.DeclaredFPS = f
		}
	}
}

func avcProfile(idc uint8) string {
	switch idc {
	case 66:
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		return "High"
	case 110:
		return "High 10"
	case 122:
		return "High 4:2:2"
	case 244:
		return "High 4:4:4"
	}
	return fmt.Sprintf("profile %d", idc)
}

func (a *AudioInfo) describeAAC(asc []byte) {
	var c mpeg4audio.AudioSpecificConfig
	if c.Unmarshal(asc) != nil {
		return
	}
	a.SampleRate, a.Channels = c.SampleRate, c.ChannelCount
	switch c.Type {
	case mpeg4audio.ObjectTypeAACLC:
		a.Profile = "LC"
	case mpeg4audio.ObjectTypeSBR:
		a.Profile = "HE-AAC"
	case mpeg4audio.ObjectTypePS:
		a.Profile = "HE-AACv2"
	default:
		a.Profile = fmt.Sprintf("object type %d", c.Type)
	}
}

func (a *AudioInfo) describeRaw(tag flv.Audio) {
	a.Channels = 1
	if tag.Stereo {
		a.Channels = 2
	}
	switch tag.Format {
	case flv.SoundG711ALaw, flv.SoundG711MuLaw, flv.SoundMP3At8kHz:
		a.SampleRate = 8000
	default:
		a.SampleRate = []int{5512, 11025, 22050, 44100}[tag.Rate]
	}
}

// rateWindow measures bytes and frames per second over the last few
// seconds of media time, from one sample per media second.
type rateWindow struct {
	samples []rateSample // oldest first; at most rateSamples
	bytes   int64
	frames  int64
}

type rateSample struct {
	ts            uint32
	bytes, frames int64
}

const rateSamples = 6 // a 5-second window

func (w *rateWindow) add(ts uint32, n, frames int) {
	w.bytes += int64(n)
	w.frames += int64(frames)
	if k := len(w.samples); k > 0 && ts-w.samples[k-1].ts < 1000 && ts >= w.samples[k-1].ts {
		return
	}
	w.samples = append(w.samples, rateSample{ts, w.bytes, w.frames})
	if len(w.samples) > rateSamples {
		w.samples = w.samples[1:]
	}
}

// rates returns bits per second and frames per second over the window.
func (w *rateWindow) rates() (bps int64, fps float64) {
	if len(w.samples) < 2 {
		return 0, 0
	}
	a, b := w.samples[0], w.samples[len(w.samples)-1]
	dt := float64(b.ts-a.ts) / 1000
	if dt <= 0 {
		return 0, 0
	}
	return int64(float64(b.bytes-a.bytes) * 8 / dt), float64(b.frames-a.frames) / dt
}

// Status is a snapshot of one live stream for the admin API.
type Status struct {
	Stream      string    `json:"stream"`
	Session     string    `json:"session"`
	Publisher   string    `json:"publisher"`
	Started     time.Time `json:"started"`
	HasVideo    bool      `json:"has_video"`
	HasAudio    bool      `json:"has_audio"`
	TracksFinal bool      `json:"tracks_final"`
	Video       VideoInfo `json:"video"`
	Audio       AudioInfo `json:"audio"`
	// FPS is measured over the last five seconds of media time.
	FPS              float64        `json:"fps"`
	VideoBitrate     int64          `json:"video_bitrate_bps"`
	AudioBitrate     int64          `json:"audio_bitrate_bps"`
	GOPCacheTags     int            `json:"gop_cache_tags"`
	Viewers          map[string]int `json:"viewers"`
	Warnings         []string       `json:"warnings"`
	VideoConfigCount int            `json:"video_config_changes"`
	AudioConfigCount int            `json:"audio_config_changes"`
}

// Status returns a snapshot of the stream.
func (s *Stream) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tracksLocked()
	st := Status{
		Stream: s.key.String(), Session: s.id, Publisher: s.remote, Started: s.start,
		HasVideo: t.Video, HasAudio: t.Audio, TracksFinal: s.tracksFinal,
		Video: s.video, Audio: s.audio, GOPCacheTags: len(s.gop),
		Viewers:          map[string]int{},
		VideoConfigCount: s.videoConfig, AudioConfigCount: s.audioConfig,
	}
	st.VideoBitrate, st.FPS = s.videoRate.rates()
	st.AudioBitrate, _ = s.audioRate.rates()
	for r := range s.readers {
		if r.opts.Protocol != "" {
			st.Viewers[r.opts.Protocol]++
		}
	}
	for _, w := range s.warnings {
		st.Warnings = append(st.Warnings, w)
	}
	if s.tracksFinal && !t.Audio {
		st.Warnings = append(st.Warnings, "no audio track")
	}
	if s.tracksFinal && !t.Video {
		st.Warnings = append(st.Warnings, "no video track")
	}
	sort.Strings(st.Warnings)
	return st
}
