package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/livehttp"
	"github.com/strata-cdn/strata/internal/rtmpserver"
)

// liveService is live streaming: the hub, RTMP ingest and the HTTP-FLV /
// HLS handler, whose HTTP listener is one of d.servers ("live").
type liveService struct {
	hub    *live.Hub
	http   *livehttp.Handler
	rtmp   *rtmpserver.Server
	rtmpLn net.Listener
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
	d.live = &liveService{hub: hub, http: lh, rtmp: rs, rtmpLn: rln}
	d.admin.Mount("/live/streams", lh.StatusHandler())
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
	d.live.http.Close()
	d.live = nil
}

// rtmpAddr returns the RTMP listener's address, or nil.
func (d *Daemon) rtmpAddr() net.Addr {
	if d.live == nil {
		return nil
	}
	return d.live.rtmpLn.Addr()
}
