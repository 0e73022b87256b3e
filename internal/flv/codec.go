package flv

import (
	"encoding/binary"
	"fmt"
)

// SoundFormat is the audio tag's codec (E.4.2.1).
type SoundFormat uint8

// Sound formats RTMP encoders send.
const (
	SoundLPCM       SoundFormat = 0
	SoundADPCM      SoundFormat = 1
	SoundMP3        SoundFormat = 2
	SoundLPCMLE     SoundFormat = 3
	SoundNelly16k   SoundFormat = 4
	SoundNelly8k    SoundFormat = 5
	SoundNelly      SoundFormat = 6
	SoundG711ALaw   SoundFormat = 7
	SoundG711MuLaw  SoundFormat = 8
	SoundExHeader   SoundFormat = 9 // Enhanced RTMP v2: a FourCC follows
	SoundAAC        SoundFormat = 10
	SoundSpeex      SoundFormat = 11
	SoundMP3At8kHz  SoundFormat = 14
	SoundDeviceSpec SoundFormat = 15
)

// String names the format as people write it.
func (f SoundFormat) String() string {
	switch f {
	case SoundLPCM, SoundLPCMLE:
		return "LPCM"
	case SoundADPCM:
		return "ADPCM"
	case SoundMP3, SoundMP3At8kHz:
		return "MP3"
	case SoundNelly16k, SoundNelly8k, SoundNelly:
		return "Nellymoser"
	case SoundG711ALaw:
		return "G.711 A-law"
	case SoundG711MuLaw:
		return "G.711 µ-law"
	case SoundExHeader:
		return "enhanced-RTMP audio"
	case SoundAAC:
		return "AAC"
	case SoundSpeex:
		return "Speex"
	}
	return fmt.Sprintf("sound format %d", uint8(f))
}

// AACPacketType values (E.4.2.1).
const (
	AACSequenceHeader uint8 = 0
	AACRaw            uint8 = 1
)

// Audio is a parsed audio tag header.
type Audio struct {
	Format SoundFormat
	// Rate is the SoundRate field: 0 = 5.5 kHz, 1 = 11 kHz, 2 = 22 kHz,
	// 3 = 44 kHz. AAC always says 3; the AudioSpecificConfig has the truth.
	Rate uint8
	// Bits16 is SoundSize: 16-bit samples rather than 8-bit.
	Bits16 bool
	Stereo bool
	// AACPacketType is set for AAC only.
	AACPacketType uint8
	// Payload is what follows the header: an AudioSpecificConfig, a raw
	// AAC frame, or the codec's frame.
	Payload []byte
}

// ParseAudio parses an audio tag body.
func ParseAudio(body []byte) (Audio, error) {
	if len(body) < 1 {
		return Audio{}, fmt.Errorf("audio tag: %w", ErrShortTag)
	}
	a := Audio{
		Format: SoundFormat(body[0] >> 4),
		Rate:   body[0] >> 2 & 3,
		Bits16: body[0]&2 != 0,
		Stereo: body[0]&1 != 0,
	}
	a.Payload = body[1:]
	if a.Format == SoundAAC {
		if len(body) < 2 {
			return Audio{}, fmt.Errorf("AAC audio tag: %w", ErrShortTag)
		}
		a.AACPacketType = body[1]
		a.Payload = body[2:]
	}
	return a, nil
}

// VideoCodec is the video tag's CodecID (E.4.3.1), extended with H.265.
type VideoCodec uint8

// Video codecs. CodecID 12 for HEVC is the de facto extension of Chinese
// CDNs and ffmpeg forks; Enhanced RTMP's "hvc1" FourCC maps to it too.
const (
	VideoH263 VideoCodec = 2
	VideoVP6  VideoCodec = 4
	VideoH264 VideoCodec = 7
	VideoH265 VideoCodec = 12
	VideoAV1  VideoCodec = 13 // Enhanced RTMP "av01", numbered here only
)

// String names the codec as people write it.
func (c VideoCodec) String() string {
	switch c {
	case VideoH263:
		return "Sorenson H.263"
	case VideoVP6:
		return "VP6"
	case VideoH264:
		return "H.264"
	case VideoH265:
		return "H.265"
	case VideoAV1:
		return "AV1"
	}
	return fmt.Sprintf("video codec %d", uint8(c))
}

// VideoPacketType says what a video tag carries.
type VideoPacketType uint8

// Video packet types, unified across legacy and Enhanced RTMP tags.
const (
	VideoSequenceHeader VideoPacketType = 0
	VideoNALU           VideoPacketType = 1
	VideoEndOfSequence  VideoPacketType = 2
	VideoOther          VideoPacketType = 3 // metadata, command frames
)

// Video is a parsed video tag header.
type Video struct {
	// KeyFrame is FrameType 1 (key frame) or 4 (generated key frame).
	KeyFrame bool
	// Command is FrameType 5: a video info/command frame, not a picture.
	Command bool
	Codec   VideoCodec
	// Enhanced marks an Enhanced RTMP (FourCC) tag.
	Enhanced   bool
	PacketType VideoPacketType
	// CompositionTime is PTS - DTS in milliseconds.
	CompositionTime int32
	// Payload is a decoder configuration record for a sequence header, or
	// length-prefixed NAL units for a NALU packet.
	Payload []byte
}

// ParseVideo parses a video tag body, legacy or Enhanced RTMP.
func ParseVideo(body []byte) (Video, error) {
	if len(body) < 1 {
		return Video{}, fmt.Errorf("video tag: %w", ErrShortTag)
	}
	if body[0]&0x80 != 0 {
		return parseExVideo(body)
	}
	ft := body[0] >> 4
	v := Video{KeyFrame: ft == 1 || ft == 4, Command: ft == 5, Codec: VideoCodec(body[0] & 0x0f), Payload: body[1:]}
	if v.Codec != VideoH264 && v.Codec != VideoH265 {
		v.PacketType = VideoNALU
		return v, nil
	}
	if len(body) < 5 {
		return Video{}, fmt.Errorf("%v video tag: %w", v.Codec, ErrShortTag)
	}
	switch body[1] {
	case 0:
		v.PacketType = VideoSequenceHeader
	case 1:
		v.PacketType = VideoNALU
	case 2:
		v.PacketType = VideoEndOfSequence
	default:
		v.PacketType = VideoOther
	}
	v.CompositionTime = si24(body[2:5])
	v.Payload = body[5:]
	return v, nil
}

// parseExVideo parses an Enhanced RTMP video tag (veovera enhanced-rtmp v1:
// IsExHeader, FrameType, PacketType, FourCC).
func parseExVideo(body []byte) (Video, error) {
	if len(body) < 5 {
		return Video{}, fmt.Errorf("enhanced video tag: %w", ErrShortTag)
	}
	ft := body[0] >> 4 & 7
	pt := body[0] & 0x0f
	v := Video{KeyFrame: ft == 1 || ft == 4, Command: ft == 5, Enhanced: true}
	switch string(body[1:5]) {
	case "avc1":
		v.Codec = VideoH264
	case "hvc1":
		v.Codec = VideoH265
	case "av01":
		v.Codec = VideoAV1
	default:
		v.Codec = VideoCodec(0xff)
	}
	rest := body[5:]
	switch pt {
	case 0: // SequenceStart
		v.PacketType = VideoSequenceHeader
	case 1: // CodedFrames: SI24 composition time for AVC and HEVC
		v.PacketType = VideoNALU
		if v.Codec == VideoH264 || v.Codec == VideoH265 {
			if len(rest) < 3 {
				return Video{}, fmt.Errorf("enhanced video tag: %w", ErrShortTag)
			}
			v.CompositionTime = si24(rest)
			rest = rest[3:]
		}
	case 2: // SequenceEnd
		v.PacketType = VideoEndOfSequence
	case 3: // CodedFramesX: composition time 0
		v.PacketType = VideoNALU
	default:
		v.PacketType = VideoOther
	}
	v.Payload = rest
	return v, nil
}

func si24(b []byte) int32 {
	u := uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	return int32(u<<8) >> 8
}

// AVCConfig is the part of an AVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 §5.3.3.1) a packager needs.
type AVCConfig struct {
	// LengthSize is the size of the NAL unit length prefix, 1 to 4.
	LengthSize int
	SPS, PPS   [][]byte
}

// ParseAVCConfig parses an AVCDecoderConfigurationRecord.
func ParseAVCConfig(b []byte) (AVCConfig, error) {
	if len(b) < 6 || b[0] != 1 {
		return AVCConfig{}, fmt.Errorf("avc config: not a version 1 AVCDecoderConfigurationRecord (%d bytes)", len(b))
	}
	c := AVCConfig{LengthSize: int(b[4]&3) + 1}
	p := 5
	for set := range 2 {
		if p >= len(b) {
			return AVCConfig{}, fmt.Errorf("avc config: %w", ErrShortTag)
		}
		n := int(b[p])
		if set == 0 {
			n &= 0x1f
		}
		p++
		for range n {
			if p+2 > len(b) {
				return AVCConfig{}, fmt.Errorf("avc config: %w", ErrShortTag)
			}
			l := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if p+l > len(b) || l == 0 {
				return AVCConfig{}, fmt.Errorf("avc config: parameter set of %d bytes overruns the record", l)
			}
			if set == 0 {
				c.SPS = append(c.SPS, b[p:p+l])
			} else {
				c.PPS = append(c.PPS, b[p:p+l])
			}
			p += l
		}
	}
	if len(c.SPS) == 0 {
		return AVCConfig{}, fmt.Errorf("avc config: no SPS")
	}
	return c, nil
}

// HEVCConfig is the part of an HEVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 §8.3.3.1) a packager needs.
type HEVCConfig struct {
	LengthSize    int
	VPS, SPS, PPS [][]byte
}

// ParseHEVCConfig parses an HEVCDecoderConfigurationRecord.
func ParseHEVCConfig(b []byte) (HEVCConfig, error) {
	if len(b) < 23 || b[0] != 1 {
		return HEVCConfig{}, fmt.Errorf("hevc config: not a version 1 HEVCDecoderConfigurationRecord (%d bytes)", len(b))
	}
	c := HEVCConfig{LengthSize: int(b[21]&3) + 1}
	n := int(b[22])
	p := 23
	for range n {
		if p+3 > len(b) {
			return HEVCConfig{}, fmt.Errorf("hevc config: %w", ErrShortTag)
		}
		typ := b[p] & 0x3f
		count := int(binary.BigEndian.Uint16(b[p+1:]))
		p += 3
		for range count {
			if p+2 > len(b) {
				return HEVCConfig{}, fmt.Errorf("hevc config: %w", ErrShortTag)
			}
			l := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if p+l > len(b) || l == 0 {
				return HEVCConfig{}, fmt.Errorf("hevc config: NAL unit of %d bytes overruns the record", l)
			}
			nalu := b[p : p+l]
			p += l
			switch typ {
			case 32:
				c.VPS = append(c.VPS, nalu)
			case 33:
				c.SPS = append(c.SPS, nalu)
			case 34:
				c.PPS = append(c.PPS, nalu)
			}
		}
	}
	if len(c.SPS) == 0 {
		return HEVCConfig{}, fmt.Errorf("hevc config: no SPS")
	}
	return c, nil
}

// SplitNALUs splits length-prefixed NAL units (ISO/IEC 14496-15 §5.3.4.2).
func SplitNALUs(b []byte, lengthSize int) ([][]byte, error) {
	if lengthSize < 1 || lengthSize > 4 {
		return nil, fmt.Errorf("nal units: length size %d is not 1 to 4", lengthSize)
	}
	var out [][]byte
	for len(b) > 0 {
		if len(b) < lengthSize {
			return nil, fmt.Errorf("nal units: %d trailing bytes", len(b))
		}
		var l int
		for i := range lengthSize {
			l = l<<8 | int(b[i])
		}
		b = b[lengthSize:]
		if l > len(b) {
			return nil, fmt.Errorf("nal units: unit of %d bytes overruns the %d left", l, len(b))
		}
		if l > 0 {
			out = append(out, b[:l])
		}
		b = b[l:]
	}
	return out, nil
}
