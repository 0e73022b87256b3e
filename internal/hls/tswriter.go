package hls

import (
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
)

// TSVideo describes the video track of a TSWriter.
type TSVideo struct {
	// H265 selects H.265; otherwise the track is H.264.
	H265 bool
	// ParameterSets are the decoder's parameter sets (SPS and PPS; VPS,
	// SPS and PPS for H.265), put before every keyframe that lacks them so
	// each segment decodes on its own (RFC 8216 §3).
	ParameterSets [][]byte
}

// TSAudio describes the audio track of a TSWriter: AAC when AAC is set,
// else MP3 (MPEG-1 Layer III).
type TSAudio struct {
	AAC *mpeg4audio.AudioSpecificConfig
}

// TSWriter writes one MPEG-TS segment from access units with timestamps
// already on the 90 kHz MPEG-TS clock. Where the live Muxer decides cuts
// itself, a TSWriter leaves them to its caller: the VOD packager, which
// plans segments over a whole file, writes each with one TSWriter.
//
// The track written first carries the PCR (ISO/IEC 13818-1 §2.4.2.2), so
// a caller whose video is sparse should write audio first.
type TSWriter struct {
	w            *mpegts.Writer
	video, audio *mpegts.Track
	vcfg         TSVideo
}

// NewTSWriter starts a segment on w with the given tracks (nil for a track
// the stream lacks) and writes PAT and PMT, so the segment is decodable
// from its first byte.
func NewTSWriter(w io.Writer, video *TSVideo, audio *TSAudio) (*TSWriter, error) {
	t := &TSWriter{}
	var tracks []*mpegts.Track
	if video != nil {
		t.vcfg = *video
		t.video = &mpegts.Track{Codec: &mpegts.CodecH264{}}
		if video.H265 {
			t.video.Codec = &mpegts.CodecH265{}
		}
		tracks = append(tracks, t.video)
	}
	if audio != nil {
		t.audio = &mpegts.Track{Codec: &mpegts.CodecMPEG1Audio{}}
		if audio.AAC != nil {
			t.audio.Codec = &mpegts.CodecMPEG4Audio{Config: *audio.AAC}
		}
		tracks = append(tracks, t.audio)
	}
	if len(tracks) == 0 {
		return nil, errors.New("mpeg-ts segment: no track")
	}
	t.w = &mpegts.Writer{W: w, Tracks: tracks}
	if err := t.w.Initialize(); err != nil {
		return nil, fmt.Errorf("mpeg-ts segment: %w", err)
	}
	if _, err := t.w.WriteTables(); err != nil {
		return nil, fmt.Errorf("mpeg-ts segment: %w", err)
	}
	return t, nil
}

// WriteVideo writes one access unit (NAL units without start codes or
// length prefixes). pts and dts are on the 90 kHz clock and must not be
// negative; keyframe says the unit is a random access point, before which
// the parameter sets are put when it lacks them.
func (t *TSWriter) WriteVideo(pts, dts int64, au [][]byte, keyframe bool) error {
	if t.video == nil {
		return errors.New("mpeg-ts segment: no video track")
	}
	au = nonEmpty(au)
	if len(au) == 0 {
		return nil
	}
	if keyframe {
		au = prependParameterSets(au, t.vcfg.ParameterSets, t.vcfg.H265)
	}
	if t.vcfg.H265 {
		return t.w.WriteH265(t.video, pts, dts, au)
	}
	return t.w.WriteH264(t.video, pts, dts, au)
}

// WriteAudio writes one audio frame (a raw AAC access unit, or an MP3
// frame with its header) at pts on the 90 kHz clock.
func (t *TSWriter) WriteAudio(pts int64, frame []byte) error {
	if t.audio == nil {
		return errors.New("mpeg-ts segment: no audio track")
	}
	if len(frame) == 0 {
		return nil
	}
	if _, ok := t.audio.Codec.(*mpegts.CodecMPEG4Audio); ok {
		return t.w.WriteMPEG4Audio(t.audio, pts, [][]byte{frame})
	}
	return t.w.WriteMPEG1Audio(t.audio, pts, [][]byte{frame})
}

// prependParameterSets puts ps before au unless au already carries an SPS:
// MP4 keeps parameter sets out of band (in avcC/hvcC), MPEG-TS in band.
func prependParameterSets(au, ps [][]byte, h265 bool) [][]byte {
	if len(ps) == 0 {
		return au
	}
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if !h265 && n[0]&0x1f == 7 || h265 && n[0]>>1&0x3f == 33 {
			return au
		}
	}
	out := make([][]byte, 0, len(ps)+len(au))
	return append(append(out, nonEmpty(ps)...), au...)
}

// nonEmpty drops empty NAL units, which the MPEG-TS writer cannot index.
func nonEmpty(au [][]byte) [][]byte {
	for _, n := range au {
		if len(n) == 0 {
			out := make([][]byte, 0, len(au))
			for _, n := range au {
				if len(n) > 0 {
					out = append(out, n)
				}
			}
			return out
		}
	}
	return au
}
