package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// modelsUpstream serves one model list and records the Authorization
// header of every request.
type modelsUpstream struct {
	rec  recorder
	auth []string
}

func (m *modelsUpstream) server(t *testing.T, model string) *httptest.Server {
	t.Helper()
	list := `{"object":"list","data":[{"id":"` + model + `","object":"model"}]}`
	models, chat := m.rec.handler(200, list), m.rec.handler(200, okChat)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.rec.mu.Lock()
		m.auth = append(m.auth, r.Header.Get("Authorization"))
		m.rec.mu.Unlock()
		if r.Method == http.MethodPost {
			chat(w, r)
			return
		}
		models(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (m *modelsUpstream) seen() []string {
	m.rec.mu.Lock()
	defer m.rec.mu.Unlock()
	return append([]string(nil), m.auth...)
}

// TestClientTokenOnlyToItsUpstream: with two key-less upstreams, the one
// configured not to receive client credentials never sees the client's
// token, neither on chat requests nor in the /v1/models merge, and the
// merge still lists its models.
func TestClientTokenOnlyToItsUpstream(t *testing.T) {
	cloud, local := &modelsUpstream{}, &modelsUpstream{}
	cloudSrv, localSrv := cloud.server(t, "gpt-x"), local.server(t, "llama-x")
	no := false
	px := newProxy(t, cloudSrv.URL, func(c *testConfig) {
		c.Upstreams = []Upstream{
			{Name: "cloud", BaseURL: cloudSrv.URL + "/v1", Models: []string{"gpt-*"}},
			{Name: "local", BaseURL: localSrv.URL + "/v1", Models: []string{"llama-*"}, ForwardClientAuth: &no},
		}
	})
	send := func(method, path, body string) string {
		req, _ := http.NewRequest(method, px.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-client")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return string(b)
	}
	list := send("GET", "/v1/models", "")
	if !strings.Contains(list, "gpt-x") || !strings.Contains(list, "llama-x") {
		t.Errorf("merged list %s", list)
	}
	send("POST", "/v1/chat/completions", `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`)
	send("POST", "/v1/chat/completions", `{"model":"llama-x","messages":[{"role":"user","content":"hi"}]}`)
	if got := cloud.seen(); len(got) != 2 || got[0] != "Bearer sk-client" || got[1] != "Bearer sk-client" {
		t.Errorf("cloud upstream saw Authorization %q, want the client's token twice", got)
	}
	if got := local.seen(); len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Errorf("local upstream saw Authorization %q, want none", got)
	}
}

// TestOwnKeyReplacesClientToken: an upstream with an api_key never sees
// the client's token, whatever forward_client_auth says.
func TestOwnKeyReplacesClientToken(t *testing.T) {
	up := &modelsUpstream{}
	srv := up.server(t, "gpt-x")
	yes := true
	px := newProxy(t, srv.URL, func(c *testConfig) {
		c.Upstreams[0].APIKey = "sk-own"
		c.Upstreams[0].ForwardClientAuth = &yes
	})
	req, _ := http.NewRequest("GET", px.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer sk-client")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := up.seen(); len(got) != 1 || got[0] != "Bearer sk-own" {
		t.Errorf("upstream saw Authorization %q", got)
	}
}
