package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/livehttp"
	"github.com/strata-cdn/strata/internal/record"
	"github.com/strata-cdn/strata/internal/rtmpserver"
	"github.com/strata-cdn/strata/internal/snapshot"
)

// liveService is live streaming: the hub, RTMP ingest and the HTTP-FLV /
// HLS handler, whose HTTP listener is one of d.servers ("live").
type liveService struct {
	hub    *live.Hub
	http   *livehttp.Handler
	rtmp   *rtmpserver.Server
	rtmpLn net.Listener
	rec    *record.Recorder
	snap   *snapshot.Taker
}

// startLive binds the RTMP and live HTTP listeners and starts ingest. It
// runs after the other listeners are bound and before they serve; the live
// HTTP server is appended to d.servers and served with them.
func (d *Daemon) startLive(metrics *httpMetrics) error {
	lc := d.cfg.Live
	if !lc.Enabled {
		return nil
	}
	hln, err := net.Listen("tcp", lc.HTTPListen)
	if err != nil {
		return fmt.Errorf("live listener: %w (set a free address with live.http_listen)", err)
	}
	rln, err := net.Listen("tcp", lc.RTMPListen)
	if err != nil {
		hln.Close()
		return fmt.Errorf("rtmp listener: %w (set a free address with --rtmp-addr or live.rtmp_listen)", err)
	}
	log := d.log.With("service", "live")
	hub := &live.Hub{Logger: log, GOPCacheBytes: int(lc.GOPCache)}
	policy := live.Policy{}
	for _, a := range lc.Apps {
		policy.Apps = append(policy.Apps, live.App{Name: a.Name, PublishKey: a.PublishKey, SignSecret: a.SignSecret,
			Hooks: live.Hooks{
				OnPublish: a.Hooks.OnPublish, OnUnpublish: a.Hooks.OnUnpublish, OnPlay: a.Hooks.OnPlay,
				Timeout: a.Hooks.Timeout.D(), AllowOnFailure: a.Hooks.OnFailure == "allow",
			}})
	}
	hooks := &live.HookClient{Logger: log, NodeID: d.cfg.NodeID}
	lh := &livehttp.Handler{
		Hub: hub, NodeID: d.cfg.NodeID, Logger: log, Policy: policy, Hooks: hooks,
		HLS: hls.Options{TargetDuration: lc.HLS.SegmentDuration.D(), PlaylistSize: lc.HLS.PlaylistSize},
	}
	lh.Start()
	if len(policy.Apps) == 0 {
		log.Warn("live.apps is empty: any app may publish over RTMP, but only from this machine (loopback); declare live.apps with a publish_key to accept other publishers")
	}
	playBase := "http://" + hln.Addr().String()
	rs := &rtmpserver.Server{
		Hub: hub, Policy: policy, Logger: d.log.With("service", "rtmp"), Hooks: hooks,
		PlayHint: func(k live.Key) string { return playBase + "/live/" + k.String() + ".flv" },
	}
	rec := d.recorder(log)
	snap := d.snapshotter(log)
	hub.Watch(func(s *live.Stream) {
		recordStream(rec, s, log)
		snapshotStream(snap, s, log)
	})
	rec.Start() // before RTMP serves: lists the spool's leftovers first
	snap.Start()
	d.live = &liveService{hub: hub, http: lh, rtmp: rs, rtmpLn: rln, rec: rec, snap: snap}
	d.admin.Mount("/live/streams", lh.StatusHandlerFor(livehttp.StatusSources{Recordings: rec, Snapshots: snap}))
	d.admin.Mount("GET /live/recordings", livehttp.RecordingsHandler(rec))
	if err := d.reg.Register(lh.Collector()); err != nil {
		d.log.Warn("live stream metrics not registered", "err", err)
	}
	d.servers = append(d.servers, &server{name: "live", ln: clientListener{Listener: hln, log: d.log}, srv: &http.Server{
		Handler:           metrics.wrap("live", lh),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}})
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := rs.Serve(rln); err != nil && !errors.Is(err, rtmpserver.ErrServerClosed) {
			d.log.Error("listener stopped", "service", "rtmp", "addr", rln.Addr().String(), "err", err)
		}
	}()
	d.log.Info("listening", "service", "rtmp", "addr", rln.Addr().String(),
		"publish", "rtmp://"+rln.Addr().String()+"/APP/STREAM?key=KEY")
	return nil
}

// stopLive ends every publish (so HTTP-FLV responses finish) and stops the
// HLS packagers; the live HTTP server is shut down with the others.
func (d *Daemon) stopLive() {
	if d.live == nil {
		return
	}
	d.live.rtmp.Close()
	// Recordings end with their publishes; their last files upload
	// through the S3 listener, which is still serving.
	ctx, cancel := context.WithTimeout(context.Background(), recordShutdownGrace)
	d.live.rec.Close(ctx)
	d.live.snap.Close(ctx)
	cancel()
	d.live.http.Close()
	d.live = nil
}

// recordShutdownGrace bounds the uploads a shutdown waits for; a file cut
// short stays in the spool and is uploaded at the next start.
const recordShutdownGrace = 20 * time.Second

// recorder builds the recorder of the apps whose record.bucket is set. An
// app without record.endpoint writes through this node's own S3 listener
// with this node's credentials (unless the app names its own).
func (d *Daemon) recorder(log *slog.Logger) *record.Recorder {
	lc := d.cfg.Live
	spool := lc.RecordSpool
	if spool == "" {
		spool = filepath.Join(d.cfg.DataDir, "record-spool")
	}
	rec := &record.Recorder{SpoolDir: spool, Logger: log.With("part", "record"), Apps: map[string]record.Config{}}
	for _, a := range lc.Apps {
		rc := a.Record
		if rc.Bucket == "" {
			continue
		}
		t := d.storeTarget(record.Target{Endpoint: rc.Endpoint, AccessKey: rc.AccessKey, SecretKey: rc.SecretKey,
			Region: rc.Region, Bucket: rc.Bucket, Prefix: rc.Prefix}, config.DefaultRecordPrefix)
		md := rc.MaxDuration.D()
		if md == 0 {
			md = config.DefaultRecordMaxDuration.D()
		}
		rec.Apps[a.Name] = record.Config{Target: t, MaxDuration: md}
		log.Info("recording app", "app", a.Name, "target", t.String(), "max_duration", md.String(), "spool", spool)
	}
	return rec
}

// snapshotter builds the snapshot taker of the apps whose
// snapshot.bucket is set; like recordings, snapshots are written through
// this node's own S3 listener unless the app names another endpoint.
func (d *Daemon) snapshotter(log *slog.Logger) *snapshot.Taker {
	log = log.With("part", "snapshot")
	tk := &snapshot.Taker{Logger: log, Apps: map[string]snapshot.Config{}}
	for _, a := range d.cfg.Live.Apps {
		sc := a.Snapshot
		if sc.Bucket == "" {
			continue
		}
		t := d.storeTarget(record.Target{Endpoint: sc.Endpoint, AccessKey: sc.AccessKey, SecretKey: sc.SecretKey,
			Region: sc.Region, Bucket: sc.Bucket, Prefix: sc.Prefix}, config.DefaultSnapshotPrefix)
		b, err := record.OpenBucket(t, snapshotProbe)
		if err != nil {
			log.Error("snapshots of this app are off: its target is unusable", "app", a.Name, "err", err.Error())
			continue
		}
		every := sc.Interval.D()
		if every == 0 {
			every = config.DefaultSnapshotInterval.D()
		}
		tk.Apps[a.Name] = snapshot.Config{Store: b, Prefix: t.Prefix, Interval: every, Width: sc.Width, Overwrite: sc.Overwrite}
		log.Info("snapshots of app", "app", a.Name, "target", t.String(), "interval", every.String(),
			"width", sc.Width, "overwrite", sc.Overwrite)
	}
	return tk
}

// snapshotProbe is the object the snapshot targets' write check PUTs and
// DELETEs under the prefix's fixed part.
const snapshotProbe = ".strata-snapshot-write-check"

// snapshotStream starts the snapshots of a new publish of an app that
// takes them. It subscribes to video only, at once, so a video track that
// starts late is still seen.
func snapshotStream(tk *snapshot.Taker, s *live.Stream, log *slog.Logger) {
	if !tk.Takes(s.Key().App) {
		return
	}
	rd, err := s.Subscribe(live.ReaderOptions{Video: true, AnyTracks: true})
	if err != nil {
		log.Error("snapshots not started", "stream", s.Key().String(), "err", err)
		return
	}
	tk.Take(snapshot.Session{App: s.Key().App, Stream: s.Key().Name, ID: s.ID(), Started: s.Started()},
		snapshotSource{recordSource{rd}, s})
}

// snapshotSource is a live reader as a snapshot.Source.
type snapshotSource struct {
	recordSource
	s *live.Stream
}

// HasVideo waits for the stream's track set.
func (s snapshotSource) HasVideo(ctx context.Context) (bool, error) {
	t, err := s.s.WaitTracks(ctx)
	return t.Video, err
}

// storeTarget fills a recording or snapshot target's defaults: this
// node's own S3 listener, credentials and region, and prefix.
func (d *Daemon) storeTarget(t record.Target, prefix string) record.Target {
	if t.Endpoint == "" {
		addr := d.Addr("s3").(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		t.Endpoint = "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	}
	if t.AccessKey == "" {
		t.AccessKey, t.SecretKey = d.opts.AccessKey, d.opts.SecretKey
	}
	if t.Region == "" {
		t.Region = d.cfg.S3.Region
	}
	if t.Prefix == "" {
		t.Prefix = prefix
	}
	return t
}

// recordStream starts recording a new publish of an app that records. It
// subscribes at once, to every track, so a track that starts late is
// recorded too (case C34).
func recordStream(rec *record.Recorder, s *live.Stream, log *slog.Logger) {
	if !rec.Records(s.Key().App) {
		return
	}
	rd, err := s.Subscribe(live.ReaderOptions{Audio: true, Video: true, AnyTracks: true, Queue: recordQueue})
	if err != nil {
		log.Error("recording not started", "stream", s.Key().String(), "err", err)
		return
	}
	rec.Record(record.Session{App: s.Key().App, Stream: s.Key().Name, ID: s.ID(), Started: s.Started()}, recordSource{rd})
}

// recordQueue is the recorder's reader queue in tags: about a minute of
// a typical stream, time for a slow disk to catch up.
const recordQueue = 8192

// recordSource is a live reader as a record.Source.
type recordSource struct{ r *live.Reader }

func (s recordSource) Read(ctx context.Context) (flv.Tag, error) {
	t, err := s.r.Read(ctx)
	if errors.Is(err, live.ErrStreamEnded) {
		return t, io.EOF
	}
	return t, err
}

func (s recordSource) Close() { s.r.Close() }

// rtmpAddr returns the RTMP listener's address, or nil.
func (d *Daemon) rtmpAddr() net.Addr {
	if d.live == nil {
		return nil
	}
	return d.live.rtmpLn.Addr()
}
