package passthrough

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func newFloorServer(t *testing.T, upstream string) *httptest.Server {
	t.Helper()
	origin, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewFloor(origin))
	t.Cleanup(srv.Close)
	return srv
}

func TestFloorForwardsPathAndBody(t *testing.T) {
	var gotPath, gotBody string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotBody = r.URL.Path, string(b)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer up.Close()
	floor := newFloorServer(t, up.URL)
	resp := post(t, floor.URL+"/v1/chat/completions", `{"model":"m","extra":1}`)
	b, _ := io.ReadAll(resp.Body)
	if string(b) != `{"ok":true}` || gotPath != "/v1/chat/completions" || gotBody != `{"model":"m","extra":1}` {
		t.Fatalf("answer %q, upstream saw path %q body %q", b, gotPath, gotBody)
	}
}

// TestFloorStreamsCompletely sends many concurrent streamed requests through
// the floor: without full duplex a share of them ends early.
func TestFloorStreamsCompletely(t *testing.T) {
	mock := httptest.NewServer(NewMock(MockOptions{Chunks: 20}))
	defer mock.Close()
	floor := newFloorServer(t, mock.URL)
	body := string(RequestBody(ModeStream, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				resp, err := http.Post(floor.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
					t.Errorf("stream cut: err %v, tail %q", err, b[max(0, len(b)-40):])
					return
				}
			}
		})
	}
	wg.Wait()
}

// duplexRecorder records whether the handler asked for full duplex.
type duplexRecorder struct {
	*httptest.ResponseRecorder
	duplex bool
}

func (d *duplexRecorder) EnableFullDuplex() error { d.duplex = true; return nil }

// TestFloorEnablesFullDuplex pins the fix for golang/go#40747 directly: the
// concurrent test above only catches the race when the scheduler cooperates.
func TestFloorEnablesFullDuplex(t *testing.T) {
	mock := httptest.NewServer(NewMock(MockOptions{}))
	defer mock.Close()
	origin, _ := url.Parse(mock.URL)
	rec := &duplexRecorder{ResponseRecorder: httptest.NewRecorder()}
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(string(RequestBody(ModeStream, 0))))
	NewFloor(origin).ServeHTTP(rec, req)
	if !rec.duplex {
		t.Fatal("floor did not enable full duplex")
	}
	if !strings.HasSuffix(rec.Body.String(), "data: [DONE]\n\n") {
		t.Fatalf("stream incomplete: %q", rec.Body.String())
	}
}
