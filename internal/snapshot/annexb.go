package snapshot

import (
	"errors"
	"fmt"

	"github.com/strata-cdn/strata/internal/flv"
)

// Errors callers branch on.
var (
	// ErrCodec: the video codec is one snapshots cannot decode here
	// (only H.264 and H.265 are fed to the decoder).
	ErrCodec = errors.New("unsupported video codec")
	// ErrNoPicture: a keyframe tag carried no picture NAL unit.
	ErrNoPicture = errors.New("keyframe without a picture")
)

// Params are the parameter sets a decoder needs before a keyframe, from
// a stream's video sequence header: SPS and PPS for H.264 (ISO/IEC
// 14496-15 §5.3.3.1), VPS, SPS and PPS for H.265 (§8.3.3.1).
type Params struct {
	Codec flv.VideoCodec
	// LengthSize is the size of the NAL unit length prefix in the
	// stream's frames, 1 to 4.
	LengthSize int
	// Sets are the parameter sets in the order a decoder wants them:
	// VPS, SPS, PPS.
	Sets [][]byte
}

// ParseParams reads the parameter sets of a video sequence header (a
// parsed tag whose PacketType is VideoSequenceHeader). The sets alias
// v.Payload.
func ParseParams(v flv.Video) (Params, error) {
	switch v.Codec {
	case flv.VideoH264:
		c, err := flv.ParseAVCConfig(v.Payload)
		if err != nil {
			return Params{}, err
		}
		if len(c.PPS) == 0 {
			return Params{}, fmt.Errorf("avc config: no PPS")
		}
		return Params{Codec: v.Codec, LengthSize: c.LengthSize, Sets: concat(c.SPS, c.PPS)}, nil
	case flv.VideoH265:
		c, err := flv.ParseHEVCConfig(v.Payload)
		if err != nil {
			return Params{}, err
		}
		if len(c.VPS) == 0 || len(c.PPS) == 0 {
			return Params{}, fmt.Errorf("hevc config: want VPS, SPS and PPS; have %d, %d and %d", len(c.VPS), len(c.SPS), len(c.PPS))
		}
		return Params{Codec: v.Codec, LengthSize: c.LengthSize, Sets: concat(c.VPS, c.SPS, c.PPS)}, nil
	}
	return Params{}, fmt.Errorf("%v: %w (snapshots decode H.264 and H.265)", v.Codec, ErrCodec)
}

func concat(sets ...[][]byte) [][]byte {
	var out [][]byte
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// Frame is one keyframe as a decoder reads it: an Annex-B byte stream
// (ITU-T H.264 Annex B; H.265 Annex B) with the parameter sets first.
type Frame struct {
	Codec flv.VideoCodec
	Data  []byte
}

// Format is the frame's demuxer name for ffmpeg's -f: "h264" or "hevc".
func (f Frame) Format() string {
	if f.Codec == flv.VideoH265 {
		return "hevc"
	}
	return "h264"
}

// startCode begins every NAL unit of an Annex-B byte stream; the 4-byte
// form is the one allowed before parameter sets and the first NAL unit of
// an access unit (H.264 §B.1.2, zero_byte + start_code_prefix_one_3bytes).
var startCode = []byte{0, 0, 0, 1}

// Keyframe turns the length-prefixed NAL units of a keyframe (the payload
// of a VideoNALU tag of p's codec) into a Frame a decoder can start from:
// p's parameter sets, then the frame's NAL units, each after a start code.
// Access unit delimiters are dropped (one may only begin an access unit,
// and the parameter sets now do); parameter sets inside the frame are
// kept, after the sequence header's, so an encoder that changes them in
// band is decoded with its latest. It fails with ErrNoPicture when the payload holds no picture (no VCL NAL
// unit).
func Keyframe(p Params, payload []byte) (Frame, error) {
	if p.Codec != flv.VideoH264 && p.Codec != flv.VideoH265 {
		return Frame{}, fmt.Errorf("%v: %w (snapshots decode H.264 and H.265)", p.Codec, ErrCodec)
	}
	nalus, err := flv.SplitNALUs(payload, p.LengthSize)
	if err != nil {
		return Frame{}, err
	}
	size := 0
	for _, s := range p.Sets {
		size += len(startCode) + len(s)
	}
	for _, n := range nalus {
		size += len(startCode) + len(n)
	}
	out := make([]byte, 0, size)
	for _, s := range p.Sets {
		out = append(append(out, startCode...), s...)
	}
	pictures := 0
	for _, n := range nalus {
		switch kind(p.Codec, n) {
		case naluSkip:
			continue
		case naluPicture:
			pictures++
		}
		out = append(append(out, startCode...), n...)
	}
	if pictures == 0 {
		return Frame{}, fmt.Errorf("%v frame of %d NAL units: %w", p.Codec, len(nalus), ErrNoPicture)
	}
	return Frame{Codec: p.Codec, Data: out}, nil
}

// NAL unit kinds for Keyframe.
const (
	naluOther   = iota // SEI and the like: kept
	naluPicture        // a VCL NAL unit: a slice of the picture
	naluSkip           // an access unit delimiter
)

// kind classifies a NAL unit by its type: H.264 §7.4.1 Table 7-1
// (1-5 slices, 9 AUD), H.265 §7.4.2.2 Table 7-1 (0-31 VCL, 35 AUD).
func kind(c flv.VideoCodec, n []byte) int {
	if c == flv.VideoH265 {
		if len(n) < 2 {
			return naluOther
		}
		switch t := n[0] >> 1 & 0x3f; {
		case t <= 31:
			return naluPicture
		case t == 35:
			return naluSkip
		}
		return naluOther
	}
	switch n[0] & 0x1f {
	case 1, 2, 3, 4, 5:
		return naluPicture
	case 9:
		return naluSkip
	}
	return naluOther
}
