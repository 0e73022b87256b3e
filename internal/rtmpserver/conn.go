package rtmpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/handshake"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/live"
)

// RTMP message type IDs (RTMP spec 1.0 §5.4, §7.1).
const (
	msgSetChunkSize  = 1
	msgWindowAckSize = 5
	msgAudio         = 8
	msgVideo         = 9
	msgDataAMF3      = 15
	msgCommandAMF3   = 17
	msgDataAMF0      = 18
	msgCommandAMF0   = 20
)

// conn is one RTMP connection's state.
type conn struct {
	s      *Server
	nc     net.Conn
	r      *rawmessage.Reader
	w      *message.Writer
	app    string
	appQ   url.Values // query written after the app name, if any
	stream *live.Stream
	// unpublish is the on_unpublish notification due when the stream ends.
	unpublish func()
}

// command is a decoded AMF0 command message.
type command struct {
	name string
	id   int
	args amf0.Data
	csid byte
}

func (s *Server) handle(nc net.Conn) {
	log := s.log().With("remote", nc.RemoteAddr().String())
	c := &conn{s: s, nc: nc}
	err := c.run()
	if c.stream != nil {
		c.stream.Close()
		if c.unpublish != nil {
			c.unpublish()
		}
	}
	switch {
	case err == nil, errors.Is(err, errDone), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		log.Debug("rtmp connection closed")
	default:
		log.Info("rtmp connection ended", "err", err)
	}
}

func (c *conn) deadline() {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.readTimeout()))
}

func (c *conn) run() error {
	c.deadline()
	bc := bytecounter.NewReadWriter(c.nc)
	keyIn, _, err := handshake.DoServer(bc, false)
	if err != nil {
		return fmt.Errorf("rtmp handshake: %w", err)
	}
	if keyIn != nil {
		return errors.New("rtmp handshake: encrypted RTMP (RTMPE) is not supported; publish over plain RTMP")
	}
	c.w = message.NewWriter(bc, bc.Writer, false)
	c.r = rawmessage.NewReader(bc, bc.Reader, func(n uint32) error {
		return c.w.Write(&message.Acknowledge{Value: n})
	})
	for {
		c.deadline()
		m, err := c.r.Read()
		if err != nil {
			return err
		}
		if err := c.onMessage(m); err != nil {
			return err
		}
	}
}

// errDone ends a connection without an error worth logging.
var errDone = errors.New("done")

func (c *conn) onMessage(m *rawmessage.Message) error {
	switch m.Type {
	case msgSetChunkSize:
		if len(m.Body) < 4 {
			return errors.New("rtmp: short SetChunkSize")
		}
		v := uint32(m.Body[0]&0x7f)<<24 | uint32(m.Body[1])<<16 | uint32(m.Body[2])<<8 | uint32(m.Body[3])
		return c.r.SetChunkSize(v)
	case msgWindowAckSize:
		if len(m.Body) >= 4 {
			c.r.SetWindowAckSize(uint32(m.Body[0])<<24 | uint32(m.Body[1])<<16 | uint32(m.Body[2])<<8 | uint32(m.Body[3]))
		}
		return nil
	case msgAudio, msgVideo, msgDataAMF0:
		if c.stream == nil {
			return nil // media before publish: ignore, as other servers do
		}
		typ := flv.TagAudio
		switch m.Type {
		case msgVideo:
			typ = flv.TagVideo
		case msgDataAMF0:
			typ = flv.TagScript
		}
		// The tag outlives this read (GOP cache, queues): own its bytes.
		body := append([]byte(nil), m.Body...)
		if err := c.stream.WriteTag(flv.Tag{Type: typ, Timestamp: uint32(m.Timestamp / time.Millisecond), Body: body}); err != nil {
			c.s.log().Debug("dropped a malformed tag", "stream", c.stream.Key().String(), "err", err)
		}
		return nil
	case msgCommandAMF0, msgCommandAMF3:
		body := m.Body
		if m.Type == msgCommandAMF3 && len(body) > 0 {
			body = body[1:] // AMF3 commands start with a 0 byte, then AMF0
		}
		d, err := amf0.Unmarshal(body)
		if err != nil || len(d) < 2 {
			return fmt.Errorf("rtmp: undecodable command: %v", err)
		}
		name, _ := d[0].(string)
		id, _ := d[1].(float64)
		return c.onCommand(command{name: name, id: int(id), args: d[2:], csid: m.ChunkStreamID})
	}
	return nil
}

func (c *conn) onCommand(cmd command) error {
	switch cmd.name {
	case "connect":
		return c.onConnect(cmd)
	case "createStream":
		return c.w.Write(&message.CommandAMF0{
			ChunkStreamID: cmd.csid, Name: "_result", CommandID: cmd.id,
			Arguments: []any{nil, float64(1)},
		})
	case "publish":
		return c.onPublish(cmd)
	case "play":
		hint := ""
		if c.s.PlayHint != nil {
			hint = "; play " + c.s.PlayHint(live.Key{App: c.app, Name: streamName(cmd)})
		}
		_ = c.status(cmd, "error", "NetStream.Play.Failed", "RTMP playback is not offered by this server; use HTTP-FLV or HLS"+hint)
		return errDone
	case "deleteStream", "FCUnpublish", "closeStream":
		if c.stream != nil {
			return errDone
		}
	}
	return nil
}

func (c *conn) onConnect(cmd command) error {
	if len(cmd.args) < 1 {
		return errors.New("rtmp: connect without a command object")
	}
	var obj amf0.Object
	switch o := cmd.args[0].(type) {
	case amf0.Object:
		obj = o
	case amf0.ECMAArray:
		obj = amf0.Object(o)
	default:
		return errors.New("rtmp: connect without a command object")
	}
	app, _ := obj.GetString("app")
	app = strings.Trim(app, "/")
	if i := strings.IndexByte(app, '?'); i >= 0 {
		c.appQ, _ = url.ParseQuery(app[i+1:])
		app = app[:i]
	}
	c.app = app
	for _, m := range []message.Message{
		&message.SetWindowAckSize{Value: 2500000},
		&message.SetPeerBandwidth{Value: 2500000, Type: 2},
		&message.SetChunkSize{Value: 65536},
		&message.CommandAMF0{
			ChunkStreamID: cmd.csid, Name: "_result", CommandID: cmd.id,
			Arguments: []any{
				amf0.Object{{Key: "fmsVer", Value: "FMS/3,0,1,123"}, {Key: "capabilities", Value: float64(31)}},
				amf0.Object{
					{Key: "level", Value: "status"},
					{Key: "code", Value: "NetConnection.Connect.Success"},
					{Key: "description", Value: "Connection succeeded."},
					{Key: "objectEncoding", Value: float64(0)},
				},
			},
		},
	} {
		if err := c.w.Write(m); err != nil {
			return err
		}
	}
	return nil
}

func streamName(cmd command) string {
	if len(cmd.args) < 2 {
		return ""
	}
	s, _ := cmd.args[1].(string)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

func (c *conn) onPublish(cmd command) error {
	if c.stream != nil {
		return errors.New("rtmp: a second publish on one connection")
	}
	raw := ""
	if len(cmd.args) >= 2 {
		raw, _ = cmd.args[1].(string)
	}
	name, query := raw, url.Values{}
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		name = raw[:i]
		query, _ = url.ParseQuery(raw[i+1:])
	}
	for k, v := range c.appQ {
		if _, ok := query[k]; !ok {
			query[k] = v
		}
	}
	key := live.Key{App: c.app, Name: name}
	log := c.s.log().With("stream", key.String(), "remote", c.nc.RemoteAddr().String())
	if c.app == "" || name == "" || strings.ContainsAny(name, "/\\") || strings.ContainsAny(c.app, "/\\") {
		err := fmt.Errorf("publish refused: %q is not a valid app/stream; publish to rtmp://HOST/APP/STREAM", c.app+"/"+name)
		log.Warn("publish refused", "reason", err.Error())
		_ = c.status(cmd, "error", "NetStream.Publish.BadName", err.Error())
		return errDone
	}
	if err := c.s.Policy.Authorize(key, query, c.nc.RemoteAddr(), time.Now()); err != nil {
		log.Warn("publish refused", "reason", err.Error())
		_ = c.status(cmd, "error", "NetStream.Publish.Unauthorized", err.Error())
		return errDone
	}
	app, _ := c.s.Policy.App(c.app)
	ev := live.HookEvent{Action: live.ActionPublish, App: key.App, Stream: key.Name,
		ClientAddr: c.nc.RemoteAddr().String(), Params: live.Params(query)}
	if err := c.s.Hooks.Check(context.Background(), app.Hooks, ev); err != nil {
		log.Warn("publish refused", "reason", err.Error())
		_ = c.status(cmd, "error", "NetStream.Publish.Unauthorized", err.Error())
		return errDone
	}
	st, err := c.s.Hub.Publish(key, c.nc.RemoteAddr().String())
	if err != nil {
		log.Warn("publish refused", "reason", err.Error())
		_ = c.status(cmd, "error", "NetStream.Publish.BadName", err.Error())
		return errDone
	}
	c.stream = st
	if app.Hooks.OnUnpublish != "" {
		ev.Action, ev.Session = live.ActionUnpublish, st.ID()
		c.unpublish = func() { c.s.Hooks.Notify(app.Hooks, ev) }
	}
	return c.status(cmd, "status", "NetStream.Publish.Start", "publishing "+key.String())
}

// status sends an onStatus command (RTMP spec 1.0 §7.2.2) on message
// stream 1; gortmplib writes the ID big-endian where the spec has it
// little-endian, hence 0x1000000.
func (c *conn) status(cmd command, level, code, desc string) error {
	return c.w.Write(&message.CommandAMF0{
		ChunkStreamID: 5, MessageStreamID: 0x1000000, Name: "onStatus", CommandID: cmd.id,
		Arguments: []any{nil, amf0.Object{
			{Key: "level", Value: level},
			{Key: "code", Value: code},
			{Key: "description", Value: desc},
		}},
	})
}
