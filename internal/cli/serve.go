package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/daemon"
)

// Default S3 credentials, used when STRATA_ACCESS_KEY / STRATA_SECRET_KEY
// are unset; start-up warns loudly about them.
const (
	defaultAccessKey = "strataadmin"
	defaultSecretKey = "strataadmin"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration `file` (see docs/config.md); built-in defaults when empty")
	dataDir := fs.String("data", "", "data `directory` (overrides data_dir; default ./strata-data)")
	s3Addr := fs.String("s3-addr", "", "S3 API listen `address` (overrides s3.listen; default :9000)")
	adminAddr := fs.String("admin-addr", "", "admin API listen `address` (overrides admin.listen; default :9090)")
	edgeAddr := fs.String("edge-addr", "", "edge (CDN) listen `address` (overrides edge.listen; default :8080)")
	rtmpAddr := fs.String("rtmp-addr", "", "RTMP ingest listen `address` (overrides live.rtmp_listen; default :1935)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: strata serve [flags]\n\nRuns every Strata service of this node until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nEnvironment:\n  STRATA_ACCESS_KEY, STRATA_SECRET_KEY  the S3 credential pair\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "strata serve: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}

	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.LoadFile(*cfgPath); err != nil {
			fmt.Fprintln(stderr, "strata serve:", err)
			return ExitUsage
		}
	}
	// Flags override the file.
	for _, o := range []struct {
		flag string
		dst  *string
	}{{*dataDir, &cfg.DataDir}, {*s3Addr, &cfg.S3.Listen}, {*adminAddr, &cfg.Admin.Listen}, {*edgeAddr, &cfg.Edge.Listen}, {*rtmpAddr, &cfg.Live.RTMPListen}} {
		if o.flag != "" {
			*o.dst = o.flag
		}
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "strata serve:", err)
		return ExitUsage
	}

	log := newLogger(stderr, cfg.Log)
	ak, sk := os.Getenv("STRATA_ACCESS_KEY"), os.Getenv("STRATA_SECRET_KEY")
	switch {
	case ak == "" && sk == "":
		ak, sk = defaultAccessKey, defaultSecretKey
		log.Warn("STRATA_ACCESS_KEY and STRATA_SECRET_KEY are unset: using the default credentials; anyone who knows them can read and write every bucket. Set both variables before exposing this node.",
			"access_key", ak)
	case ak == "" || sk == "":
		fmt.Fprintln(stderr, "strata serve: set both STRATA_ACCESS_KEY and STRATA_SECRET_KEY, or neither")
		return ExitUsage
	}

	d, err := daemon.New(cfg, daemon.Options{Logger: log, AccessKey: ak, SecretKey: sk, Version: Version(), ConfigPath: *cfgPath})
	if err != nil {
		fmt.Fprintln(stderr, "strata serve:", err)
		return ExitUsage
	}
	if err := d.Start(ctx); err != nil {
		log.Error("start failed", "err", err)
		return ExitFail
	}
	<-ctx.Done()
	log.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.D())
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		log.Error("shutdown was not clean", "err", err)
		return ExitFail
	}
	log.Info("stopped")
	return ExitOK
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
