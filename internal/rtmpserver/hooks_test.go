package rtmpserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/livetest"
)

// The on_publish hook decides: a refusal reaches the publisher with the
// hook's reason; an allowed stream's end is reported to on_unpublish.
func TestPublishHooks(t *testing.T) {
	livetest.Need(t)
	events := make(chan live.HookEvent, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev live.HookEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("hook body: %v", err)
		}
		events <- ev
		if ev.Action == live.ActionPublish && ev.Params["token"] != "good" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"reason": "token `+ev.Params["token"]+` is not valid for `+ev.Stream+`"}`)
		}
	}))
	t.Cleanup(hook.Close)
	policy := live.Policy{Apps: []live.App{{Name: "live", PublishKey: "k", Hooks: live.Hooks{
		OnPublish: hook.URL + "/publish", OnUnpublish: hook.URL + "/unpublish",
	}}}}
	_, started, addr := start(t, policy)

	bad := livetest.Publish(t, livetest.AudioOnly, 2*time.Second, "rtmp://"+addr+"/live/cam?key=k&token=stolen")
	out, err := bad.Wait(30 * time.Second)
	if want := "token stolen is not valid for cam"; err == nil || !strings.Contains(out, want) {
		t.Errorf("publish refused by the hook: err %v, stderr %q; want the hook's reason %q", err, out, want)
	}
	if ev := <-events; ev.Action != "on_publish" || ev.App != "live" || ev.Stream != "cam" || !strings.HasPrefix(ev.ClientAddr, "127.0.0.1:") {
		t.Errorf("on_publish event = %+v", ev)
	}

	good := livetest.Publish(t, livetest.AudioOnly, time.Second, "rtmp://"+addr+"/live/cam?key=k&token=good")
	s := waitStream(t, started)
	<-events // its on_publish
	if _, err := good.Wait(30 * time.Second); err != nil {
		t.Errorf("allowed publish: %v", err)
	}
	select {
	case ev := <-events:
		if ev.Action != "on_unpublish" || ev.Stream != "cam" || ev.Session != s.ID() {
			t.Errorf("event after the publisher left = %+v; want on_unpublish of session %s", ev, s.ID())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no on_unpublish within 30s of the publisher leaving")
	}
}
