package hls

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrNoSegment: no segment is complete yet, so there is no playlist.
var ErrNoSegment = errors.New("no HLS segment is complete yet")

// Playlist returns the media playlist (RFC 8216 §4.3.3): the last
// PlaylistSize complete segments, with EXT-X-ENDLIST once the stream ended.
// Segment URIs are relative: dir + "/" + name, where dir is the stream
// name, so /live/app/cam.m3u8 lists /live/app/cam/<name>.
func (m *Muxer) Playlist(dir string) ([]byte, error) {
	var listed []*Segment
	for _, s := range m.segments {
		if s.LeftPlaylist.IsZero() {
			listed = append(listed, s)
		}
	}
	if len(listed) == 0 {
		if m.err != nil {
			return nil, m.err
		}
		return nil, ErrNoSegment
	}
	// EXT-X-TARGETDURATION: each EXTINF rounded to the nearest integer
	// must not exceed it (§4.3.3.1).
	target := int(math.Round(m.opts.TargetDuration.Seconds()))
	for _, s := range listed {
		target = max(target, int(math.Round(s.Duration.Seconds())))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", target, listed[0].Seq)
	if m.discontSeq > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", m.discontSeq)
	}
	for _, s := range listed {
		if s.Discontinuity {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s/%s\n", s.Duration.Seconds(), dir, s.Name)
	}
	if m.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String()), nil
}
