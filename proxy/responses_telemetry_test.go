package proxy

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestResponsesMetrics: corrected Responses answers, whole and streamed,
// are counted under their route, with the correction outcome, as chat's are.
func TestResponsesMetrics(t *testing.T) {
	u := &respUpstream{text: respOriginal}
	be := &backend{respond: fixed(respAligned)}
	px, _, _, logs := observedProxy(t, u.server(t).URL, be.server(t).URL)
	for _, body := range []string{`{"model":"gpt-x","input":"Q?"}`, `{"model":"gpt-x","input":"Q?","stream":true}`} {
		resp, err := http.Post(px.URL+"/v1/responses", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := http.Get(px.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(b)
	requests := regexp.MustCompile(`aligngate_requests_total\{[^}]*route="/v1/responses"[^}]*\} 2`)
	corrections := regexp.MustCompile(`aligngate_correction_duration_seconds_count\{[^}]*mode="aligner"[^}]*outcome="corrected"[^}]*\} 2`)
	if !requests.MatchString(m) {
		t.Errorf("/metrics does not count 2 requests on /v1/responses:\n%s", m)
	}
	if !corrections.MatchString(m) {
		t.Errorf("/metrics does not count 2 corrected aligner corrections")
	}
	if l := logs.String(); strings.Count(l, `"route":"/v1/responses"`) < 2 || strings.Contains(l, "Bad answer") {
		t.Errorf("request log lines: %s", l)
	}
}
