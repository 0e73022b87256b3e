package recmux

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/flv"
)

// file is one file a collector received.
type file struct {
	start FileStart
	data  bytes.Buffer
	frags []FragmentInfo
	sum   FileSummary
	ended bool
}

// mp4 returns the complete file: header and fragments.
func (f *file) mp4(t *testing.T) []byte {
	t.Helper()
	h, err := Header(f.sum.Tracks, f.frags)
	if err != nil {
		t.Fatalf("Header: %v", err)
	}
	return append(h, f.data.Bytes()...)
}

// collector is a Sink keeping every file in memory.
type collector struct {
	files []*file
	fail  error
}

func (c *collector) StartFile(s FileStart) error {
	c.files = append(c.files, &file{start: s})
	return c.fail
}

func (c *collector) WriteFragment(data []byte, info FragmentInfo) error {
	f := c.files[len(c.files)-1]
	f.data.Write(data)
	f.frags = append(f.frags, info)
	return c.fail
}

func (c *collector) EndFile(s FileSummary) error {
	f := c.files[len(c.files)-1]
	f.sum, f.ended = s, true
	return c.fail
}

// readTags reads a captured FLV file (ffmpeg's output) from testdata.
func readTags(t testing.TB, name string) []flv.Tag {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := flv.ReadTags(b)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func mux(t *testing.T, opts Options, tags []flv.Tag) []*file {
	t.Helper()
	c := &collector{}
	m := New(c, opts)
	for _, tg := range tags {
		if err := m.WriteTag(tg); err != nil {
			t.Fatalf("WriteTag: %v", err)
		}
	}
	if err := m.Close("publish ended"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, f := range c.files {
		if !f.ended {
			t.Fatalf("file %d never ended", f.start.Seq)
		}
	}
	return c.files
}

// parse checks a file with mediacommon's fmp4 reader and returns its
// tracks' codecs and each track's total sample duration.
func parse(t *testing.T, b []byte) (codecs []string, durs map[int]time.Duration) {
	t.Helper()
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("init: %v", err)
	}
	scales := map[int]uint32{}
	for _, tr := range init.Tracks {
		codecs = append(codecs, strings.TrimPrefix(strings.ToLower(strings.TrimPrefix(typeName(tr.Codec), "*codecs.")), ""))
		scales[tr.ID] = tr.TimeScale
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatalf("parts: %v", err)
	}
	durs = map[int]time.Duration{}
	for _, p := range parts {
		for _, pt := range p.Tracks {
			end := pt.BaseTime
			for _, s := range pt.Samples {
				end += uint64(s.Duration)
			}
			if d := scale(int64(end), scales[pt.ID]); d > durs[pt.ID] {
				durs[pt.ID] = d
			}
		}
	}
	return codecs, durs
}

func typeName(v any) string {
	switch v.(type) {
	case *fmp4.CodecH264:
		return "h264"
	case *fmp4.CodecH265:
		return "h265"
	case *fmp4.CodecMPEG4Audio:
		return "aac"
	case *fmp4.CodecMPEG1Audio:
		return "mp3"
	}
	return "other"
}

// probe runs ffprobe on b when it is installed: the format's duration and
// the streams' codec names.
func probe(t *testing.T, b []byte) (time.Duration, []string, bool) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		return 0, nil, false
	}
	p := filepath.Join(t.TempDir(), "f.mp4")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", p).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var res struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	secs, _ := strconv.ParseFloat(res.Format.Duration, 64)
	var names []string
	for _, s := range res.Streams {
		names = append(names, s.CodecName)
	}
	return time.Duration(secs * float64(time.Second)), names, true
}

func near(got, want, tol time.Duration) bool { return got >= want-tol && got <= want+tol }

func TestRecordsWholeStream(t *testing.T) {
	files := mux(t, Options{}, readTags(t, "av-2ch.flv"))
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	f := files[0]
	if f.start.Reason != "publish started" || f.sum.EndReason != "publish ended" {
		t.Errorf("reasons = %q, %q", f.start.Reason, f.sum.EndReason)
	}
	if !near(f.sum.Duration, 3*time.Second, 150*time.Millisecond) {
		t.Errorf("summary duration = %v, want about 3s", f.sum.Duration)
	}
	if len(f.sum.Notes) != 0 {
		t.Errorf("notes = %q, want none for a clean stream", f.sum.Notes)
	}
	got := []string{}
	for _, tr := range f.sum.Tracks {
		got = append(got, tr.String())
	}
	if diff := cmp.Diff([]string{"H.264 160x120", "AAC 22050 Hz 2 ch"}, got); diff != "" {
		t.Errorf("tracks (-want +got):\n%s", diff)
	}
	b := f.mp4(t)
	codecs, durs := parse(t, b)
	if diff := cmp.Diff([]string{"h264", "aac"}, codecs); diff != "" {
		t.Errorf("codecs (-want +got):\n%s", diff)
	}
	for id, d := range durs {
		if !near(d, 3*time.Second, 150*time.Millisecond) {
			t.Errorf("track %d lasts %v, want about 3s", id, d)
		}
	}
	if len(f.frags) < 3 {
		t.Errorf("%d fragments, want one per second or so", len(f.frags))
	}
	if d, names, ok := probe(t, b); ok {
		if !near(d, 3*time.Second, 200*time.Millisecond) || len(names) != 2 {
			t.Errorf("ffprobe: duration %v, streams %v; want about 3s, h264 and aac", d, names)
		}
	}
}

// shift returns tags with their timestamps moved by ms.
func shift(tags []flv.Tag, ms uint32) []flv.Tag {
	out := make([]flv.Tag, len(tags))
	for i, tg := range tags {
		tg.Timestamp += ms
		out[i] = tg
	}
	return out
}

// Case C33: the AAC config changes from mono to stereo mid-stream; the
// recording starts a new file there and says why.
func TestNewFileOnAudioConfigChange_C33(t *testing.T) {
	mono, stereo := readTags(t, "av-1ch.flv"), readTags(t, "av-2ch.flv")
	tags := append(append([]flv.Tag{}, mono...), shift(stereo, 3000)...)
	files := mux(t, Options{}, tags)
	if len(files) != 2 {
		t.Fatalf("got %d files, want 2 (one per audio config)", len(files))
	}
	want := "audio config changed: 1 ch → 2 ch at 00:00:03 of the publish"
	if files[0].sum.EndReason != want || files[1].start.Reason != want {
		t.Errorf("reasons: first ends %q, second starts %q; want %q", files[0].sum.EndReason, files[1].start.Reason, want)
	}
	for i, f := range files {
		if !near(f.sum.Duration, 3*time.Second, 200*time.Millisecond) {
			t.Errorf("file %d lasts %v, want about 3s", i+1, f.sum.Duration)
		}
		ch := f.sum.Tracks[len(f.sum.Tracks)-1].Channels
		if ch != i+1 {
			t.Errorf("file %d has %d audio channels, want %d", i+1, ch, i+1)
		}
		if _, names, ok := probe(t, f.mp4(t)); ok && len(names) != 2 {
			t.Errorf("file %d: ffprobe streams %v, want h264 and aac", i+1, names)
		}
	}
	if files[1].start.At < 2900*time.Millisecond {
		t.Errorf("second file starts at %v of the publish, want about 3s", files[1].start.At)
	}
}

// Case C34: the first two seconds carry audio only; the recording still
// holds the whole three seconds, video from 2s, and says so.
func TestLateVideoKeepsWholeDuration_C34(t *testing.T) {
	var tags []flv.Tag
	for _, tg := range readTags(t, "av-2ch.flv") {
		if tg.Type == flv.TagVideo && tg.Timestamp < 2000 && !isSeqHeader(tg) {
			continue
		}
		tags = append(tags, tg)
	}
	files := mux(t, Options{}, tags)
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	f := files[0]
	if !near(f.sum.Duration, 3*time.Second, 150*time.Millisecond) {
		t.Errorf("file lasts %v, want about 3s", f.sum.Duration)
	}
	if !hasNote(f.sum.Notes, "video starts 2.0 s after audio") {
		t.Errorf("notes = %q, want one saying video starts 2.0 s after audio", f.sum.Notes)
	}
	// The video keeps a time line of its own, from its first frame; the
	// header's edit list delays it by 2s.
	_, durs := parse(t, f.mp4(t))
	if !near(durs[AudioTrackID], 3*time.Second, 150*time.Millisecond) || !near(durs[VideoTrackID], time.Second, 150*time.Millisecond) {
		t.Errorf("track ends = %v, want audio about 3s, video about 1s", durs)
	}
	if d, names, ok := probe(t, f.mp4(t)); ok && (!near(d, 3*time.Second, 200*time.Millisecond) || len(names) != 2) {
		t.Errorf("ffprobe: duration %v, streams %v; want about 3s, h264 and aac", d, names)
	}
}

// Case C34: audio pauses for 1.2 s; the file keeps its length and notes
// the gap.
func TestAudioGapNoted_C34(t *testing.T) {
	var tags []flv.Tag
	for _, tg := range readTags(t, "av-2ch.flv") {
		if tg.Type == flv.TagAudio && tg.Timestamp >= 1000 && tg.Timestamp < 2200 && !isSeqHeader(tg) {
			continue
		}
		tags = append(tags, tg)
	}
	files := mux(t, Options{}, tags)
	if len(files) != 1 || !near(files[0].sum.Duration, 3*time.Second, 150*time.Millisecond) {
		t.Fatalf("got %d files (first %+v), want one of about 3s", len(files), files[0].sum)
	}
	if !hasNote(files[0].sum.Notes, "audio gap of 1.") {
		t.Errorf("notes = %q, want an audio gap of about 1.2 s", files[0].sum.Notes)
	}
}

func TestMaxDurationSplitsOnKeyframes(t *testing.T) {
	files := mux(t, Options{MaxDuration: time.Second}, readTags(t, "av-1ch.flv"))
	if len(files) != 3 {
		t.Fatalf("got %d files, want 3 of 1s", len(files))
	}
	var total time.Duration
	for _, f := range files[1:] {
		if !strings.Contains(f.start.Reason, "max_duration 1s") {
			t.Errorf("file %d starts because %q, want max_duration", f.start.Seq, f.start.Reason)
		}
	}
	for _, f := range files {
		total += f.sum.Duration
		parse(t, f.mp4(t))
	}
	if !near(total, 3*time.Second, 200*time.Millisecond) {
		t.Errorf("files last %v in all, want about 3s", total)
	}
}

func TestUnsupportedAudioRecordsVideoOnly(t *testing.T) {
	var tags []flv.Tag
	for _, tg := range readTags(t, "av-1ch.flv") {
		if tg.Type == flv.TagAudio {
			tg.Body = append([]byte{0x72}, 1, 2, 3) // G.711 A-law, 8 kHz mono
		}
		tags = append(tags, tg)
	}
	files := mux(t, Options{}, tags)
	if len(files) != 1 || len(files[0].sum.Tracks) != 1 || !files[0].sum.Tracks[0].IsVideo() {
		t.Fatalf("files = %+v, want one video-only file", files)
	}
	if !hasNote(files[0].sum.Notes, "G.711 A-law") {
		t.Errorf("notes = %q, want G.711 named", files[0].sum.Notes)
	}
}

func TestSinkErrorStops(t *testing.T) {
	c := &collector{fail: errors.New("disk full")}
	m := New(c, Options{})
	var err error
	for _, tg := range readTags(t, "av-1ch.flv") {
		if err = m.WriteTag(tg); err != nil {
			break
		}
	}
	if err == nil || err.Error() != "disk full" {
		t.Errorf("WriteTag error = %v, want the sink's", err)
	}
	if err := m.Close("end"); err == nil {
		t.Errorf("Close after a sink error = nil, want the error")
	}
}

func isSeqHeader(tg flv.Tag) bool {
	return len(tg.Body) > 1 && tg.Body[1] == 0
}

func hasNote(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

func TestRecordsMP3(t *testing.T) {
	files := mux(t, Options{}, readTags(t, "av-mp3.flv"))
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	var got []string
	for _, tr := range files[0].sum.Tracks {
		got = append(got, tr.String())
	}
	if diff := cmp.Diff([]string{"H.264 160x120", "MP3 22050 Hz 1 ch"}, got); diff != "" {
		t.Errorf("tracks (-want +got):\n%s", diff)
	}
	codecs, durs := parse(t, files[0].mp4(t))
	if diff := cmp.Diff([]string{"h264", "mp3"}, codecs); diff != "" {
		t.Errorf("codecs (-want +got):\n%s", diff)
	}
	if !near(durs[AudioTrackID], 2*time.Second, 150*time.Millisecond) {
		t.Errorf("audio lasts %v, want about 2s", durs[AudioTrackID])
	}
	if d, names, ok := probe(t, files[0].mp4(t)); ok && (!near(d, 2*time.Second, 200*time.Millisecond) || len(names) != 2 || names[1] != "mp3") {
		t.Errorf("ffprobe: %v %v, want about 2s with h264 and mp3", d, names)
	}
}

// Audio frames closer than a frame apart are laid end to end, and noted;
// timestamps going back further keep their place.
func TestAudioTimestampOddities(t *testing.T) {
	cases := []struct {
		name  string
		shift func(ms uint32) uint32 // applied to audio frames from 1000 ms on
		note  string
	}{
		{"overlap", func(ms uint32) uint32 { return ms - 35 }, "audio frames overlap"},
		{"back", func(ms uint32) uint32 { return ms - 300 }, "audio timestamps went back"},
	}
	for _, tc := range cases {
		var tags []flv.Tag
		for _, tg := range readTags(t, "av-2ch.flv") {
			if tg.Type == flv.TagAudio && tg.Timestamp >= 1000 && !isSeqHeader(tg) {
				tg.Timestamp = tc.shift(tg.Timestamp)
			}
			tags = append(tags, tg)
		}
		files := mux(t, Options{}, tags)
		if len(files) != 1 || !hasNote(files[0].sum.Notes, tc.note) {
			t.Errorf("%s: %d files, notes %q; want one file noting %q", tc.name, len(files), files[0].sum.Notes, tc.note)
			continue
		}
		parse(t, files[0].mp4(t))
	}
}
