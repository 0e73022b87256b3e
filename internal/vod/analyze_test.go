package vod

import (
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// synthetic builds a track of n samples of dur units at timescale, the
// i-th a keyframe when key(i).
func synthetic(id uint32, kind Kind, codec string, timescale uint32, n int, dur uint32, key func(int) bool) *track {
	t := &track{id: id, kind: kind, codec: codec, timescale: timescale, lengthSize: 4}
	for i := range n {
		t.samples = append(t.samples, sample{off: int64(i) * 10, size: 10, dur: dur, dts: int64(i) * int64(dur), sync: key(i)})
	}
	return t
}

func aacTrack(id uint32, frames int) *track {
	t := synthetic(id, KindAudio, CodecAAC, 48000, frames, 1024, func(int) bool { return true })
	t.asc = aacConfig()
	t.sampleRate, t.channels = 48000, 2
	return t
}

// The numbers of case C28: 4 video frames over 478.3 s (one every
// 119.6 s) against 22,911 audio frames.
func TestAnalyzeSparseVideo_C28(t *testing.T) {
	video := synthetic(1, KindVideo, CodecH264, 1000, 4, 119575, func(i int) bool { return i == 0 })
	m := &movie{timescale: 1000, declared: 478300, tracks: []*track{video, aacTrack(2, 22911)}}
	a := analyze(m, 1<<30, 6*time.Second, "")
	f := findingWith(a.report, FindingSparseTrack)
	if f == nil {
		t.Fatalf("no sparse_track finding:\n%s", a.report.Text())
	}
	want := "video track 1 has 4 frames over 478.3 s (one every 119.6 s) against 22911 audio frames: too sparse to interleave or to segment on keyframes; segmenting by time on audio track 2"
	if f.Message != want || f.Severity != SeverityWarning || f.Track != 1 {
		t.Errorf("finding %+v\nwant message %q", f, want)
	}
	if a.keyframeCut || a.anchor != m.tracks[1] {
		t.Errorf("cut on keyframes %v, anchor %d; want time on the audio", a.keyframeCut, a.anchor.id)
	}
	v := a.report.Tracks[0]
	if v.Samples != 4 || v.Duration != 478.3 || v.Interval != 119.575 || v.Keyframes != 1 || v.MaxGap != 119.575 {
		t.Errorf("video report %+v", v)
	}
	au := a.report.Tracks[1]
	if au.Samples != 22911 || au.SampleRate != 48000 || au.Duration != 488.768 {
		t.Errorf("audio report %+v", au)
	}
	if a.report.Duration != 488.768 {
		t.Errorf("duration %v, want the audio's 488.768", a.report.Duration)
	}
	if !a.refused(true) || a.refused(false) {
		t.Errorf("refused: strict %v, lax %v; want true, false", a.refused(true), a.refused(false))
	}
	text := a.report.Text()
	for _, want := range []string{"track 1 video h264: 4 frames over 478.3 s", "Segmenting by time on track 2's samples, target 6 s: video is too sparse to segment on keyframes.", "WARNING sparse_track: video track 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestAnalyzeFindings(t *testing.T) {
	gop := func(n int) func(int) bool { return func(i int) bool { return i%n == 0 } }
	tests := []struct {
		name     string
		tracks   []*track
		cut      string
		code     string
		severity Severity
		message  string
		keyCut   bool
	}{
		{"clean", []*track{synthetic(1, KindVideo, CodecH264, 25, 750, 1, gop(50)), aacTrack(2, 1407)}, "", "", "", "", true},
		{"long GOP cuts by time", []*track{synthetic(1, KindVideo, CodecH264, 25, 750, 1, gop(500)), aacTrack(2, 1407)}, "", FindingLongGOP, SeverityWarning, "keyframes up to 20.0 s apart", false},
		{"GOP a bit over target", []*track{synthetic(1, KindVideo, CodecH264, 25, 750, 1, gop(200)), aacTrack(2, 1407)}, "", FindingLongGOP, SeverityInfo, "up to 8.0 s apart", true},
		{"no keyframe", []*track{synthetic(1, KindVideo, CodecH264, 25, 750, 1, func(int) bool { return false }), aacTrack(2, 1407)}, "", FindingNoKeyframe, SeverityWarning, "no keyframe", false},
		{"unsupported codec", []*track{synthetic(1, KindVideo, "vp09", 25, 750, 1, gop(50))}, "", FindingUnsupportedCodec, SeverityError, "vp09", false},
		{"no media", []*track{{id: 1, kind: KindOther, timescale: 1000}}, "", FindingNoMedia, SeverityError, "no audio or video", false},
		{"keyframe cut impossible", []*track{aacTrack(1, 1407)}, CutKeyframe, FindingCut, SeverityError, "the file has no video", false},
		{"time cut asked", []*track{synthetic(1, KindVideo, CodecH264, 25, 750, 1, gop(50)), aacTrack(2, 1407)}, CutTime, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &movie{timescale: 1000, tracks: tt.tracks}
			a := analyze(m, 1<<30, 6*time.Second, tt.cut)
			if tt.code == "" {
				if len(a.report.Findings) != 0 {
					t.Errorf("findings:\n%s", a.report.Text())
				}
			} else if f := findingWith(a.report, tt.code); f == nil || f.Severity != tt.severity || !strings.Contains(f.Message, tt.message) {
				t.Errorf("finding %s = %+v, want %s containing %q\n%s", tt.code, f, tt.severity, tt.message, a.report.Text())
			}
			if a.keyframeCut != tt.keyCut {
				t.Errorf("keyframe cut %v, want %v", a.keyframeCut, tt.keyCut)
			}
		})
	}
}

func TestAnalyzePauseAndLateStart(t *testing.T) {
	audio := aacTrack(2, 1407)
	for i := 700; i < len(audio.samples); i++ {
		audio.samples[i].dts += 48000 * 4 // 4 s of silence after frame 700
	}
	video := synthetic(1, KindVideo, CodecH264, 25, 850, 1, func(i int) bool { return i%50 == 0 })
	video.shift = 25 * 3 // starts 3 s late
	a := analyze(&movie{timescale: 1000, tracks: []*track{video, audio, aacTrack(3, 10)}}, 1<<30, 6*time.Second, "")
	if f := findingWith(a.report, FindingPause); f == nil || !strings.Contains(f.Message, "audio track 2 pauses for 4.0 s at 14.9 s") {
		t.Errorf("pause finding %+v\n%s", f, a.report.Text())
	}
	if f := findingWith(a.report, FindingLateStart); f == nil || !strings.Contains(f.Message, "video track 1 starts 3.0 s after") {
		t.Errorf("late_start finding %+v", f)
	}
	if f := findingWith(a.report, FindingIgnoredTrack); f == nil || f.Track != 3 {
		t.Errorf("ignored_track finding %+v", f)
	}
}

func aacConfig() *mpeg4audio.AudioSpecificConfig {
	return &mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}
}
