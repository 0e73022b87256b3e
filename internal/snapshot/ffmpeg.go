package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Errors of the encoder callers branch on.
var (
	// ErrNoFFmpeg: the ffmpeg binary is not installed (not in PATH).
	ErrNoFFmpeg = errors.New("ffmpeg not found")
	// ErrEncode: ffmpeg ran and failed, timed out, or wrote no image.
	ErrEncode = errors.New("ffmpeg failed")
)

// Defaults of FFmpeg's zero fields.
const (
	DefaultEncodeTimeout = 10 * time.Second
	DefaultMaxImage      = 16 << 20
)

// Encoder turns a keyframe into a JPEG image.
type Encoder interface {
	// Ready reports why the encoder cannot run (nil when it can): a
	// missing binary shows at start-up and in each stream's status
	// before the first keyframe arrives.
	Ready() error
	// JPEG decodes f and encodes it as a JPEG image, scaled to width
	// pixels (keeping the aspect ratio) when width is positive.
	JPEG(ctx context.Context, f Frame, width int) ([]byte, error)
}

// FFmpeg is an Encoder that runs ffmpeg once per image, feeding the frame
// on its standard input and reading the JPEG from its standard output.
// A subprocess keeps decoders (and their bugs) out of the server's memory.
type FFmpeg struct {
	// Path is the ffmpeg binary; empty means "ffmpeg" looked up in PATH.
	Path string
	// Timeout bounds one run. If zero, DefaultEncodeTimeout is used.
	Timeout time.Duration
	// MaxImage bounds the image read back; a larger output is an error.
	// If zero, DefaultMaxImage is used.
	MaxImage int
}

// Ready reports ErrNoFFmpeg (wrapped, with the lookup's error) when the
// binary cannot be found.
func (f FFmpeg) Ready() error {
	_, err := f.binary()
	return err
}

func (f FFmpeg) binary() (string, error) {
	name := f.Path
	if name == "" {
		name = "ffmpeg"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%v); snapshots need ffmpeg in the PATH (Debian: apt install ffmpeg)", ErrNoFFmpeg, err)
	}
	return p, nil
}

// Args are ffmpeg's arguments for one image of a frame in format ("h264"
// or "hevc"), scaled to width when positive: read the elementary stream
// from stdin, decode one frame, write one JPEG to stdout. -2 keeps the
// aspect ratio with an even height, which 4:2:0 chroma needs.
func Args(format string, width int) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", format, "-i", "pipe:0", "-frames:v", "1"}
	if width > 0 {
		args = append(args, "-vf", "scale="+strconv.Itoa(width)+":-2")
	}
	return append(args, "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "3", "pipe:1")
}

// JPEG runs ffmpeg on f. Its errors wrap ErrNoFFmpeg or ErrEncode and end
// with ffmpeg's last line of standard error, e.g. "ffmpeg failed (exit
// status 1): Invalid data found when processing input".
func (f FFmpeg) JPEG(ctx context.Context, fr Frame, width int) ([]byte, error) {
	bin, err := f.binary()
	if err != nil {
		return nil, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultEncodeTimeout
	}
	max := f.MaxImage
	if max <= 0 {
		max = DefaultMaxImage
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, Args(fr.Format(), width)...)
	cmd.Stdin = bytes.NewReader(fr.Data)
	out := &capped{max: max}
	errOut := &tail{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	// The pipes' copiers stop a second after ffmpeg is killed, even if a
	// child of it kept them open.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("%w: timed out after %v%s", ErrEncode, timeout, lastLine(errOut.b.Bytes()))
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("%w: the image is larger than %d bytes", ErrEncode, max)
	case err != nil:
		return nil, fmt.Errorf("%w (%v)%s", ErrEncode, err, lastLine(errOut.b.Bytes()))
	}
	img := out.b.Bytes()
	if len(img) < 4 || img[0] != 0xff || img[1] != 0xd8 {
		return nil, fmt.Errorf("%w: it wrote no JPEG image (%d bytes)%s", ErrEncode, len(img), lastLine(errOut.b.Bytes()))
	}
	return img, nil
}

// lastLine returns ": " + the last non-empty line of ffmpeg's stderr, or
// "" when it wrote none: the line that says what went wrong.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if l == "" {
		return ""
	}
	if len(l) > 300 {
		l = l[:300] + "…"
	}
	return ": " + l
}

var errTooLarge = errors.New("output too large")

// capped is a buffer that refuses to grow past max bytes; the refusal
// stops exec's copier, and ffmpeg then dies of a broken pipe.
type capped struct {
	b   bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.b.Len()+len(p) > c.max {
		return 0, errTooLarge
	}
	return c.b.Write(p)
}

// tail keeps the last max bytes written to it (at least), never failing,
// so a chatty ffmpeg cannot make its run fail.
type tail struct {
	b   bytes.Buffer
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - 2*t.max; over > 0 {
		t.b.Next(over + t.max)
	}
	return len(p), nil
}
