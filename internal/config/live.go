package config

import "time"

// Live configures live streaming: RTMP ingest, and HTTP-FLV and HLS
// playback on an HTTP listener of its own that the edge can front as an
// origin (a domain whose origin is http://127.0.0.1:8081).
type Live struct {
	// Enabled turns live streaming on; false binds neither listener.
	Enabled bool `yaml:"enabled"`
	// RTMPListen is the RTMP ingest address; publish to
	// rtmp://HOST/APP/STREAM?key=KEY.
	RTMPListen string `yaml:"rtmp_listen"`
	// HTTPListen serves /live/APP/STREAM.flv, .m3u8 and HLS segments.
	HTTPListen string `yaml:"http_listen"`
	// Apps may publish. With none, any app may publish, but only from this
	// machine (loopback); start-up warns about it.
	Apps []LiveApp `yaml:"apps"`
	// GOPCache bounds each stream's cache of its latest GOP, which lets
	// HTTP-FLV playback start on a keyframe at once.
	GOPCache ByteSize `yaml:"gop_cache"`
	HLS      LiveHLS  `yaml:"hls"`
	// RecordSpool holds recordings being written and files whose upload
	// failed (uploaded at the next start). Default: <data_dir>/record-spool.
	RecordSpool string `yaml:"record_spool"`
}

// LiveApp is one RTMP application and how its publishers authenticate.
type LiveApp struct {
	Name string `yaml:"name"`
	// PublishKey is accepted as ?key=... on the publish URL.
	PublishKey string `yaml:"publish_key"`
	// SignSecret accepts signed publish URLs, ?expires=UNIX&sign=HEX with
	// HEX = hex(HMAC-SHA256(sign_secret, "/APP/STREAM?expires=UNIX")).
	SignSecret string `yaml:"sign_secret"`
	// Hooks are HTTP callbacks on publish, unpublish and play.
	Hooks LiveHooks `yaml:"hooks"`
	// Record records the app's streams as MP4 files into a bucket.
	Record LiveRecord `yaml:"record"`
	// Snapshot writes JPEG snapshots of the app's streams into a bucket.
	Snapshot LiveSnapshot `yaml:"snapshot"`
}

// Defaults of an app's recording.
const (
	DefaultRecordPrefix      = "{app}/{stream}/"
	DefaultRecordFormat      = "mp4"
	DefaultRecordMaxDuration = Duration(time.Hour)
)

// RecordPlaceholders are what a recording prefix may contain.
var RecordPlaceholders = []string{"{app}", "{stream}", "{session}", "{date}"}

// LiveRecord is an app's recording (docs/live.md, "Recording"): files
// PREFIX + 20060102-150405_SESSION_NNN.mp4 in Bucket, written through an
// S3 endpoint: this node's own S3 API by default.
type LiveRecord struct {
	// Bucket receives the recordings; empty turns recording off.
	Bucket string `yaml:"bucket"`
	// Prefix goes before every key; {app}, {stream}, {session} and {date}
	// are replaced. Default: "{app}/{stream}/".
	Prefix string `yaml:"prefix"`
	// Format is the file format: "mp4" (fragmented MP4), the only one.
	Format string `yaml:"format"`
	// MaxDuration splits files at the first keyframe after it. Default 1h.
	MaxDuration Duration `yaml:"max_duration"`
	// Endpoint is another S3 endpoint's URL (http://host:port,
	// https://host); empty means this node's own S3 API.
	Endpoint string `yaml:"endpoint"`
	// AccessKey and SecretKey sign the writes; empty means this node's
	// own credentials (STRATA_ACCESS_KEY), only with the node's endpoint.
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// Region is signed for; empty means s3.region.
	Region string `yaml:"region"`
}

// Defaults of an app's snapshots.
const (
	DefaultSnapshotPrefix   = "{app}/{stream}/"
	DefaultSnapshotFormat   = "jpeg"
	DefaultSnapshotInterval = Duration(10 * time.Second)
)

// LiveSnapshot is an app's snapshots (docs/live.md, "Snapshots"): every
// interval a JPEG of the stream's latest keyframe, made by ffmpeg and
// written to Bucket as PREFIX + 20060102-150405.000.jpg and PREFIX +
// latest.jpg, through an S3 endpoint: this node's own S3 API by default.
type LiveSnapshot struct {
	// Bucket receives the snapshots; empty turns snapshots off.
	Bucket string `yaml:"bucket"`
	// Prefix goes before every key; {app}, {stream}, {session} and {date}
	// are replaced. Default: "{app}/{stream}/".
	Prefix string `yaml:"prefix"`
	// Interval is the time between snapshots, 1s to 1h. Default 10s.
	Interval Duration `yaml:"interval"`
	// Format is the image format: "jpeg", the only one.
	Format string `yaml:"format"`
	// Width scales the images to this many pixels wide, keeping the
	// aspect ratio; 0 keeps the stream's size.
	Width int `yaml:"width"`
	// Overwrite writes only PREFIX + latest.jpg, replaced each time (the
	// cloud services' overwrite mode); false also keeps every snapshot
	// under its time.
	Overwrite bool `yaml:"overwrite"`
	// Endpoint, AccessKey, SecretKey and Region are as for record: empty
	// means this node's own S3 API, credentials and s3.region.
	Endpoint  string `yaml:"endpoint"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	Region    string `yaml:"region"`
}

// LiveHooks are an app's HTTP callbacks: Strata POSTs JSON
// {action, app, stream, client_addr, params, node} to each URL. A 2xx
// answer to on_publish or on_play allows; another answer refuses, with
// the body as the reason.
type LiveHooks struct {
	OnPublish   string `yaml:"on_publish"`
	OnUnpublish string `yaml:"on_unpublish"`
	OnPlay      string `yaml:"on_play"`
	// Timeout bounds one call; 0 means 5s.
	Timeout Duration `yaml:"timeout"`
	// OnFailure decides a publish or play whose hook failed (unreachable,
	// timed out, 5xx): "deny" (the default, also for "") or "allow".
	OnFailure string `yaml:"on_failure"`
}

// LiveHLS configures HLS packaging.
type LiveHLS struct {
	// SegmentDuration is the target segment duration; video segments are
	// cut at the first keyframe after it.
	SegmentDuration Duration `yaml:"segment_duration"`
	// PlaylistSize is the number of segments a playlist lists. A segment
	// stays fetchable for twice the playlist's duration after it leaves.
	PlaylistSize int `yaml:"playlist_size"`
}

// defaultLive is the live section of Default.
func defaultLive() Live {
	return Live{
		Enabled:    true,
		RTMPListen: ":1935",
		HTTPListen: ":8081",
		GOPCache:   16 * MiB,
		HLS:        LiveHLS{SegmentDuration: Duration(2 * time.Second), PlaylistSize: 6},
	}
}
