package hls

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrPlaylist: bytes that are not a media playlist this package can read.
var ErrPlaylist = errors.New("not an HLS media playlist")

// MediaSegment is one segment of a media playlist.
type MediaSegment struct {
	URI      string
	Duration time.Duration // EXTINF
}

// Key is the EXT-X-KEY of a playlist (RFC 8216 §4.3.2.4).
type Key struct {
	Method string // "AES-128", or "NONE"
	URI    string
	// IV is the IV attribute as written (0x...), empty when the media
	// sequence number is the IV (RFC 8216 §5.2).
	IV string
}

// MediaPlaylist is a media playlist (RFC 8216 §4.3.3): what VODPlaylist
// writes and ParseMediaPlaylist reads.
type MediaPlaylist struct {
	// TargetDuration is EXT-X-TARGETDURATION. Marshal computes it from
	// the segments when zero.
	TargetDuration time.Duration
	// Type is EXT-X-PLAYLIST-TYPE: "VOD", "EVENT" or "" (none).
	Type string
	// MediaSequence is EXT-X-MEDIA-SEQUENCE, the sequence number of the
	// first segment.
	MediaSequence uint64
	// Independent: EXT-X-INDEPENDENT-SEGMENTS, every segment starts with
	// a keyframe and decodes without the one before (RFC 8216 §4.3.5.1).
	Independent bool
	// Key, when set, applies to every segment.
	Key *Key
	// Ended is EXT-X-ENDLIST: no segment will be added.
	Ended    bool
	Segments []MediaSegment
}

// Duration is the sum of the segments' EXTINF durations: how long the
// playlist plays.
func (p *MediaPlaylist) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Segments {
		d += s.Duration
	}
	return d
}

// Marshal writes the playlist. EXTINF is written in microseconds so that
// the durations add up to the media's duration (RFC 8216 §4.3.2.1 allows
// decimal floating-point); EXT-X-TARGETDURATION is at least every EXTINF
// rounded to the nearest integer (§4.3.3.1).
func (p *MediaPlaylist) Marshal() []byte {
	target := int64(math.Round(p.TargetDuration.Seconds()))
	for _, s := range p.Segments {
		target = max(target, int64(math.Round(s.Duration.Seconds())))
	}
	target = max(target, 1)
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	if p.Type != "" {
		fmt.Fprintf(&b, "#EXT-X-PLAYLIST-TYPE:%s\n", p.Type)
	}
	if p.Independent {
		b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	}
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", target, p.MediaSequence)
	if k := p.Key; k != nil {
		fmt.Fprintf(&b, "#EXT-X-KEY:METHOD=%s", k.Method)
		if k.URI != "" {
			fmt.Fprintf(&b, ",URI=%q", k.URI)
		}
		if k.IV != "" {
			fmt.Fprintf(&b, ",IV=%s", k.IV)
		}
		b.WriteString("\n")
	}
	for _, s := range p.Segments {
		us := s.Duration.Microseconds()
		fmt.Fprintf(&b, "#EXTINF:%d.%06d,\n%s\n", us/1e6, us%1e6, s.URI)
	}
	if p.Ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String())
}

// ParseMediaPlaylist reads a media playlist: the tags above, EXTINF
// durations and segment URIs. Tags it does not know are skipped, as RFC
// 8216 §4.1 requires of clients. A segment URI without an EXTINF before
// it, or an EXTINF that is not a non-negative number, is an error.
func ParseMediaPlaylist(data []byte) (*MediaPlaylist, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "#EXTM3U" {
		return nil, fmt.Errorf("first line is not #EXTM3U: %w", ErrPlaylist)
	}
	p := &MediaPlaylist{}
	var pending *time.Duration
	for i, line := range lines[1:] {
		n := i + 2
		line = strings.TrimSpace(line)
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case line == "":
		case tag == "#EXTINF":
			secs, _, _ := strings.Cut(value, ",")
			d, err := parseSeconds(secs)
			if err != nil {
				return nil, fmt.Errorf("line %d: EXTINF %q: %w", n, secs, ErrPlaylist)
			}
			pending = &d
		case tag == "#EXT-X-TARGETDURATION":
			d, err := parseSeconds(value)
			if err != nil {
				return nil, fmt.Errorf("line %d: EXT-X-TARGETDURATION %q: %w", n, value, ErrPlaylist)
			}
			p.TargetDuration = d
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			v, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: EXT-X-MEDIA-SEQUENCE %q: %w", n, value, ErrPlaylist)
			}
			p.MediaSequence = v
		case tag == "#EXT-X-PLAYLIST-TYPE":
			p.Type = value
		case tag == "#EXT-X-INDEPENDENT-SEGMENTS":
			p.Independent = true
		case tag == "#EXT-X-ENDLIST":
			p.Ended = true
		case tag == "#EXT-X-KEY":
			k := parseKey(value)
			p.Key = &k
		case strings.HasPrefix(line, "#"):
			// a comment or a tag this reader does not need
		default:
			if pending == nil {
				return nil, fmt.Errorf("line %d: segment %q has no EXTINF: %w", n, line, ErrPlaylist)
			}
			p.Segments = append(p.Segments, MediaSegment{URI: line, Duration: *pending})
			pending = nil
		}
	}
	return p, nil
}

// parseSeconds reads a decimal number of seconds.
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsNaN(f) || f > 1e9 {
		return 0, fmt.Errorf("%q is not a duration in seconds", s)
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, nil
}

// parseKey reads EXT-X-KEY's attribute list (RFC 8216 §4.2): NAME=value
// pairs, values quoted or not.
func parseKey(attrs string) Key {
	var k Key
	for attrs != "" {
		name, rest, ok := strings.Cut(attrs, "=")
		if !ok {
			break
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:1+end], rest[2+end:]
			}
			rest = strings.TrimPrefix(rest, ",")
		} else {
			val, rest, _ = strings.Cut(rest, ",")
		}
		switch strings.TrimSpace(name) {
		case "METHOD":
			k.Method = val
		case "URI":
			k.URI = val
		case "IV":
			k.IV = val
		}
		attrs = rest
	}
	return k
}
