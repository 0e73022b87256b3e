package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/strata-cdn/strata/internal/vod"
)

const vodUsage = `Usage:
  strata vod analyze (--s3 URL --bucket B --key K | --file F) [--segment D] [--cut MODE] [--strict] [--json]
  strata vod package --s3 URL --bucket B --key K --out PREFIX [--out-bucket B] [--segment D] [--cut MODE]
                     [--encrypt-key-uri URI [--encrypt-key HEX] [--key-object NAME]] [--strict] [--json]

Packages an MP4 object (H.264/H.265 with AAC/MP3) as HLS video on demand:
MPEG-TS segments and an index.m3u8 under PREFIX, optionally AES-128
encrypted. "analyze" reports on the input without packaging. See docs/vod.md.
Credentials come from STRATA_ACCESS_KEY and STRATA_SECRET_KEY, or
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
Exit status: 0 ok, 1 refused or failed, 2 bad usage.
`

// vodCmd runs "strata vod analyze|package".
func vodCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, vodUsage)
		return ExitUsage
	}
	switch args[0] {
	case "analyze", "analyse":
		return vodRun(ctx, false, args[1:], stdout, stderr)
	case "package":
		return vodRun(ctx, true, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, vodUsage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "strata vod: unknown command %q\n\n%s", args[0], vodUsage)
	return ExitUsage
}

// vodFlags are the flags of both subcommands.
type vodFlags struct {
	store        vod.Store
	bucket, key  string
	file         string
	out          string
	outBucket    string
	segment      time.Duration
	cut          string
	strict       bool
	json         bool
	keyURI       string
	keyHex       string
	keyObject    string
	playlistName string
}

func vodRun(ctx context.Context, pack bool, args []string, stdout, stderr io.Writer) int {
	name := "strata vod analyze"
	if pack {
		name = "strata vod package"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f vodFlags
	fs.StringVar(&f.store.Endpoint, "s3", "", "the S3 endpoint, `URL` (http://host:port of a Strata node's S3 API)")
	fs.StringVar(&f.store.Region, "region", envOr("AWS_REGION", "us-east-1"), "the `region` requests are signed for")
	fs.StringVar(&f.bucket, "bucket", "", "the input's `bucket`")
	fs.StringVar(&f.key, "key", "", "the input object's `key`, an MP4 file")
	fs.DurationVar(&f.segment, "segment", vod.DefaultTarget, "the target segment `duration`")
	fs.StringVar(&f.cut, "cut", vod.CutAuto, "where segments are cut: auto (on keyframes when the video allows, else by time), keyframe or time")
	fs.BoolVar(&f.strict, "strict", false, "refuse inputs with warning findings too (always refused: error findings)")
	fs.BoolVar(&f.json, "json", false, "print the report (and result) as JSON")
	if pack {
		fs.StringVar(&f.out, "out", "", "the output key `prefix`, e.g. vod/movie/")
		fs.StringVar(&f.outBucket, "out-bucket", "", "the output `bucket`, if not the input's")
		fs.StringVar(&f.keyURI, "encrypt-key-uri", "", "encrypt segments with AES-128; players fetch the key from this `URI` (absolute, or relative to the playlist)")
		fs.StringVar(&f.keyHex, "encrypt-key", "", "the AES-128 key as 32 hex digits; random if not given")
		fs.StringVar(&f.keyObject, "key-object", "enc.key", "the `name` under --out the key is written to; \"\" writes no key object (the key is printed instead)")
		fs.StringVar(&f.playlistName, "playlist", vod.DefaultPlaylist, "the playlist's `name` under --out")
	} else {
		fs.StringVar(&f.file, "file", "", "analyse a local `file` instead of an object")
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, vodUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, pos[0])
		return ExitUsage
	}
	if err := f.check(pack); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	p := &vod.Packager{Target: f.segment, Cut: f.cut, Strict: f.strict, Playlist: f.playlistName}
	src, input, err := f.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitFail
	}
	if !pack {
		rep, err := p.Analyze(ctx, src)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s: %v\n", name, input, err)
			return ExitFail
		}
		rep.Input = input
		printVOD(stdout, stderr, f.json, rep, rep.Text())
		if len(rep.Blocking(f.strict)) > 0 {
			return ExitFail
		}
		return ExitOK
	}
	return vodPackage(ctx, p, src, input, &f, stdout, stderr)
}

// check validates the flags.
func (f *vodFlags) check(pack bool) error {
	switch {
	case f.file != "" && (f.store.Endpoint != "" || f.bucket != "" || f.key != ""):
		return errors.New("give --file, or --s3, --bucket and --key, not both")
	case f.file == "" && (f.store.Endpoint == "" || f.bucket == "" || f.key == ""):
		return errors.New("give --s3, --bucket and --key (the input object)")
	case f.segment < time.Second:
		return fmt.Errorf("--segment %v: want at least 1s", f.segment)
	case f.cut != vod.CutAuto && f.cut != vod.CutKeyframe && f.cut != vod.CutTime:
		return fmt.Errorf("--cut %q: want auto, keyframe or time", f.cut)
	}
	if !pack {
		return nil
	}
	if f.out == "" {
		return errors.New("give --out, the output prefix (e.g. vod/movie/)")
	}
	if f.keyURI == "" && (f.keyHex != "") {
		return errors.New("--encrypt-key needs --encrypt-key-uri")
	}
	if f.keyHex != "" {
		if k, err := hex.DecodeString(f.keyHex); err != nil || len(k) != 16 {
			return errors.New("--encrypt-key: want 32 hex digits (16 bytes)")
		}
	}
	return nil
}

// open returns the input and its name in reports.
func (f *vodFlags) open(ctx context.Context) (vod.Source, string, error) {
	if f.file != "" {
		fh, err := os.Open(f.file)
		if err != nil {
			return nil, "", err
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, "", err
		}
		// The process exits after one run: the file closes with it.
		return fileSource{fh, st.Size()}, f.file, nil
	}
	f.store.AccessKey, f.store.SecretKey, f.store.SessionToken = credentialsFromEnv()
	c, err := f.store.Client()
	if err != nil {
		return nil, "", err
	}
	obj, err := vod.OpenS3Object(ctx, c, f.bucket, f.key)
	if err != nil {
		return nil, "", err
	}
	return obj, "s3://" + f.bucket + "/" + f.key, nil
}

// vodPackage runs "strata vod package" once the input is open.
func vodPackage(ctx context.Context, p *vod.Packager, src vod.Source, input string, f *vodFlags, stdout, stderr io.Writer) int {
	c, err := f.store.Client()
	if err != nil {
		fmt.Fprintln(stderr, "strata vod package:", err)
		return ExitFail
	}
	bucket := f.outBucket
	if bucket == "" {
		bucket = f.bucket
	}
	sink := &vod.S3Prefix{Client: c, Bucket: bucket, Prefix: vod.CleanPrefix(f.out)}
	var enc *vod.Encryption
	if f.keyURI != "" {
		key := make([]byte, 16)
		if f.keyHex != "" {
			key, _ = hex.DecodeString(f.keyHex)
		} else if _, err := rand.Read(key); err != nil {
			fmt.Fprintln(stderr, "strata vod package: key:", err)
			return ExitFail
		}
		enc = &vod.Encryption{Key: key, KeyURI: f.keyURI, KeyObject: f.keyObject}
	}
	res, err := p.Package(ctx, src, sink, enc)
	if res != nil && res.Report != nil {
		res.Report.Input = input
	}
	if err != nil {
		if res != nil && res.Report != nil {
			printVOD(stdout, stderr, f.json, res, res.Report.Text())
		}
		fmt.Fprintf(stderr, "strata vod package: %s: %v\n", input, err)
		return ExitFail
	}
	var text string
	text += res.Report.Text()
	text += fmt.Sprintf("Wrote %d segments (%s), %.3f s, to s3://%s/%s", len(res.Segments), byteCount(res.Bytes), res.Duration, bucket, sink.Key(res.Playlist))
	if res.Key != "" {
		text += fmt.Sprintf("; key at s3://%s/%s (protect it)", bucket, sink.Key(res.Key))
	} else if enc != nil {
		text += "; key " + hex.EncodeToString(enc.Key) + " (not stored: keep it)"
	}
	printVOD(stdout, stderr, f.json, res, text+"\n")
	return ExitOK
}

// printVOD prints v as JSON or text.
func printVOD(stdout, stderr io.Writer, asJSON bool, v any, text string) {
	if !asJSON {
		fmt.Fprint(stdout, text)
		return
	}
	e := json.NewEncoder(stdout)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		fmt.Fprintln(stderr, "strata vod:", err)
	}
}

// credentialsFromEnv reads S3 credentials: Strata's variables first, then
// AWS's.
func credentialsFromEnv() (access, secret, token string) {
	if a, s := os.Getenv("STRATA_ACCESS_KEY"), os.Getenv("STRATA_SECRET_KEY"); a != "" && s != "" {
		return a, s, ""
	}
	return os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// byteCount formats a byte count for people.
func byteCount(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// fileSource is a local file as a vod.Source.
type fileSource struct {
	*os.File
	size int64
}

func (f fileSource) Size() int64 { return f.size }
