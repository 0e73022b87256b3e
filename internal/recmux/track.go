package recmux

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg1audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/strata-cdn/strata/internal/flv"
)

// Track IDs are fixed, so a track that joins a file late keeps its ID and
// every fragment of a file names tracks the same way.
const (
	VideoTrackID = 1
	AudioTrackID = 2
)

// Codec names as Track.Codec spells them.
const (
	CodecH264 = "H.264"
	CodecH265 = "H.265"
	CodecAAC  = "AAC"
	CodecMP3  = "MP3"
)

// videoTimeScale is the video tracks' clock: 90 kHz, as MPEG systems use;
// FLV's millisecond timestamps map onto it exactly.
const videoTimeScale = 90000

// Track is one elementary stream of a file and its decoder configuration.
// It is plain data (JSON), so a file's header can be rebuilt from a record
// of its tracks after a crash.
type Track struct {
	ID    int    `json:"id"`
	Codec string `json:"codec"`
	// Config is the AVC or HEVC decoder configuration record (ISO/IEC
	// 14496-15 §5.3.3.1, §8.3.3.1) or the AAC AudioSpecificConfig (ISO/IEC
	// 14496-3 §1.6.2.1); empty for MP3.
	Config    []byte `json:"config,omitempty"`
	TimeScale uint32 `json:"timescale"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	// SampleRate and Channels describe an audio track.
	SampleRate int `json:"sample_rate,omitempty"`
	Channels   int `json:"channels,omitempty"`
}

// IsVideo reports whether t is the video track.
func (t Track) IsVideo() bool { return t.ID == VideoTrackID }

// String describes the track for reports: "H.264 640x360",
// "AAC 44100 Hz 2 ch".
func (t Track) String() string {
	if t.IsVideo() {
		return fmt.Sprintf("%s %dx%d", t.Codec, t.Width, t.Height)
	}
	return fmt.Sprintf("%s %d Hz %d ch", t.Codec, t.SampleRate, t.Channels)
}

// same reports whether u decodes with the same configuration as t.
func (t Track) same(u Track) bool {
	return t.Codec == u.Codec && bytes.Equal(t.Config, u.Config) &&
		t.SampleRate == u.SampleRate && t.Channels == u.Channels
}

// change says what differs from t to u, for a report: "1 ch → 2 ch".
func (t Track) change(u Track) string {
	var d []string
	if t.Codec != u.Codec {
		d = append(d, t.Codec+" → "+u.Codec)
	}
	if t.IsVideo() {
		if t.Width != u.Width || t.Height != u.Height {
			d = append(d, fmt.Sprintf("%dx%d → %dx%d", t.Width, t.Height, u.Width, u.Height))
		}
		if len(d) == 0 {
			d = append(d, "new SPS/PPS")
		}
		return strings.Join(d, ", ")
	}
	if t.SampleRate != u.SampleRate {
		d = append(d, fmt.Sprintf("%d Hz → %d Hz", t.SampleRate, u.SampleRate))
	}
	if t.Channels != u.Channels {
		d = append(d, fmt.Sprintf("%d ch → %d ch", t.Channels, u.Channels))
	}
	if len(d) == 0 {
		d = append(d, "new AudioSpecificConfig")
	}
	return strings.Join(d, ", ")
}

// videoTrack builds the video track from a sequence header's payload.
func videoTrack(codec flv.VideoCodec, record []byte) (Track, int, error) {
	t := Track{ID: VideoTrackID, Config: append([]byte(nil), record...), TimeScale: videoTimeScale}
	switch codec {
	case flv.VideoH264:
		c, err := flv.ParseAVCConfig(record)
		if err != nil {
			return Track{}, 0, err
		}
		if len(c.PPS) == 0 {
			return Track{}, 0, fmt.Errorf("avc config: no PPS")
		}
		var sps h264.SPS
		if err := sps.Unmarshal(c.SPS[0]); err != nil {
			return Track{}, 0, fmt.Errorf("avc config: SPS: %w", err)
		}
		t.Codec, t.Width, t.Height = CodecH264, sps.Width(), sps.Height()
		return t, c.LengthSize, nil
	case flv.VideoH265:
		c, err := flv.ParseHEVCConfig(record)
		if err != nil {
			return Track{}, 0, err
		}
		if len(c.VPS) == 0 || len(c.PPS) == 0 {
			return Track{}, 0, fmt.Errorf("hevc config: no VPS or PPS")
		}
		var sps h265.SPS
		if err := sps.Unmarshal(c.SPS[0]); err != nil {
			return Track{}, 0, fmt.Errorf("hevc config: SPS: %w", err)
		}
		t.Codec, t.Width, t.Height = CodecH265, sps.Width(), sps.Height()
		return t, c.LengthSize, nil
	}
	return Track{}, 0, fmt.Errorf("%v video cannot go into MP4 here", codec)
}

// aacTrack builds the audio track from an AudioSpecificConfig.
func aacTrack(asc []byte) (Track, error) {
	var c mpeg4audio.AudioSpecificConfig
	if err := c.Unmarshal(asc); err != nil {
		return Track{}, fmt.Errorf("AAC config: %w", err)
	}
	if c.SampleRate <= 0 || c.ChannelCount <= 0 {
		return Track{}, fmt.Errorf("AAC config: %d Hz, %d channels", c.SampleRate, c.ChannelCount)
	}
	return Track{ID: AudioTrackID, Codec: CodecAAC, Config: append([]byte(nil), asc...),
		TimeScale: uint32(c.SampleRate), SampleRate: c.SampleRate, Channels: c.ChannelCount}, nil
}

// mp3Track builds the audio track from an MP3 frame and returns the
// frame's sample count.
func mp3Track(frame []byte) (Track, int, error) {
	var h mpeg1audio.FrameHeader
	if err := h.Unmarshal(frame); err != nil {
		return Track{}, 0, fmt.Errorf("MP3 frame header: %w", err)
	}
	ch := 2
	if h.ChannelMode == mpeg1audio.ChannelModeMono {
		ch = 1
	}
	return Track{ID: AudioTrackID, Codec: CodecMP3, TimeScale: uint32(h.SampleRate),
		SampleRate: h.SampleRate, Channels: ch}, h.SampleCount(), nil
}

// codec returns the track's codec for the MP4 sample description.
func (t Track) codec() (codecs.Codec, error) {
	switch t.Codec {
	case CodecH264:
		c, err := flv.ParseAVCConfig(t.Config)
		if err != nil {
			return nil, err
		}
		if len(c.PPS) == 0 {
			return nil, fmt.Errorf("avc config: no PPS")
		}
		return &codecs.H264{SPS: c.SPS[0], PPS: c.PPS[0]}, nil
	case CodecH265:
		c, err := flv.ParseHEVCConfig(t.Config)
		if err != nil {
			return nil, err
		}
		if len(c.VPS) == 0 || len(c.PPS) == 0 {
			return nil, fmt.Errorf("hevc config: no VPS or PPS")
		}
		return &codecs.H265{VPS: c.VPS[0], SPS: c.SPS[0], PPS: c.PPS[0]}, nil
	case CodecAAC:
		var c mpeg4audio.AudioSpecificConfig
		if err := c.Unmarshal(t.Config); err != nil {
			return nil, err
		}
		return &codecs.MPEG4Audio{Config: c}, nil
	case CodecMP3:
		return &codecs.MPEG1Audio{SampleRate: t.SampleRate, ChannelCount: t.Channels}, nil
	}
	return nil, fmt.Errorf("track %d: codec %q cannot go into MP4", t.ID, t.Codec)
}
