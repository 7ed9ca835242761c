package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aligngate/aligngate/policies"
)

const testKey = "test-admin-key-0123"

// apiPaths are every JSON endpoint; {id} is filled with record 1.
var apiPaths = []string{"/ui/api/records", "/ui/api/records/1", "/ui/api/summary", "/ui/api/series"}

// Content the tests look for; unusual words so a match is no accident.
const (
	question  = "Which zorblat quibbles first?"
	original  = "The zorblat quibbles loudly every Tuesday."
	corrected = "The zorblat quibbles softly every Tuesday morning."
)

type captured struct {
	mu   sync.Mutex
	recs []policies.Record
}

func (c *captured) Record(r policies.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
}

func newTest(t *testing.T, cfg Config, next policies.Recorder) (*Dashboard, *httptest.Server) {
	t.Helper()
	d, err := New(cfg, Options{Next: next})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() { srv.Close(); _ = d.Close() })
	return d, srv
}

func contentRecord(exp, arm string) policies.Record {
	return policies.Record{
		Time: time.Now(), Experiment: exp, Arm: arm, Model: "gpt-test", Mode: "full",
		Question: question, OriginalAnswer: original, CorrectedAnswer: corrected,
		Corrected: true, Route: "/v1/chat/completions", LatencyMS: 42, CaptureContent: true,
	}
}

// get fetches path with the bearer key (when key != "") and returns
// status and body.
func get(t *testing.T, srv *httptest.Server, path, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestDashboardDisabledWithoutKey(t *testing.T) {
	d, srv := newTest(t, Config{}, nil)
	d.Record(contentRecord("e", "a"))
	for _, p := range append([]string{"/ui", "/ui/", "/ui/assets/app.js"}, apiPaths...) {
		if code, _ := get(t, srv, p, "anything"); code != http.StatusNotFound {
			t.Errorf("GET %s without admin key configured: %d, want 404", p, code)
		}
	}
}

func TestDashboardAPIRequiresAuth(t *testing.T) {
	d, srv := newTest(t, Config{AdminKey: testKey, CaptureContent: true}, nil)
	d.Record(contentRecord("e", "a"))
	for _, p := range apiPaths {
		if code, body := get(t, srv, p, ""); code != http.StatusUnauthorized || strings.Contains(body, "zorblat") {
			t.Errorf("GET %s without auth: %d %q, want 401 without content", p, code, body)
		}
		if code, _ := get(t, srv, p, "wrong-key"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong key: %d, want 401", p, code)
		}
		if code, _ := get(t, srv, p, testKey); code != http.StatusOK {
			t.Errorf("GET %s with the key: %d, want 200", p, code)
		}
	}
	// Without auth the page is the login form, not the dashboard.
	if _, body := get(t, srv, "/ui/", ""); !strings.Contains(body, `action="/ui/login"`) {
		t.Errorf("GET /ui/ without auth is not the login form: %.200s", body)
	}
}

func TestDashboardLoginCookie(t *testing.T) {
	_, srv := newTest(t, Config{AdminKey: testKey}, nil)
	noRedirect := *srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	res, err := noRedirect.PostForm(srv.URL+"/ui/login", url.Values{"key": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Fatalf("login with a wrong key: %d, cookies %v; want 401 and none", res.StatusCode, res.Cookies())
	}

	res, err = noRedirect.PostForm(srv.URL+"/ui/login", url.Values{"key": {testKey}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d, want 303", res.StatusCode)
	}
	var c *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == cookieName {
			c = k
		}
	}
	switch {
	case c == nil:
		t.Fatalf("login set no %s cookie: %v", cookieName, res.Header["Set-Cookie"])
	case !c.HttpOnly || c.SameSite != http.SameSiteStrictMode:
		t.Errorf("cookie %+v: want HttpOnly and SameSite=Strict", c)
	case strings.Contains(c.Value, testKey) || c.Value == "":
		t.Errorf("cookie value %q holds the key or nothing", c.Value)
	}

	for _, p := range apiPaths[2:] {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: c.Value})
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the session cookie: %d, want 200", p, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ui/api/summary", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: c.Value + "0"})
	if res, err := srv.Client().Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged cookie: %v %v, want 401", res.StatusCode, err)
	}
}

// TestDashboardNoContentWithoutCapture feeds records that ask for capture
// into a dashboard with capture off: no endpoint and no page may show them.
func TestDashboardNoContentWithoutCapture(t *testing.T) {
	next := &captured{}
	d, srv := newTest(t, Config{AdminKey: testKey}, next)
	d.Record(contentRecord("exp", "treatment"))
	d.Record(contentRecord("exp2", "control"))
	bodies := map[string]string{}
	for _, p := range append([]string{"/ui/", "/ui/api/records/2", "/ui/assets/app.js", "/ui/assets/index.html"}, apiPaths...) {
		code, body := get(t, srv, p, testKey)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, code)
		}
		bodies[p] = body
	}
	for p, body := range bodies {
		for _, s := range []string{question, original, corrected, "zorblat"} {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows content %q with capture off", p, s)
			}
		}
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(bodies["/ui/api/records/1"]), &detail); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"question", "original_answer", "corrected_answer", "diff"} {
		if _, ok := detail[k]; ok {
			t.Errorf("detail has %q with capture off", k)
		}
	}
	if detail["note"] != noteCaptureOff || detail["corrected"] != true {
		t.Errorf("detail %v: want the capture-off note and the counts", detail)
	}
	// The next recorder applies its own rule; the ring's redaction must
	// not have changed what it receives.
	if len(next.recs) != 2 || next.recs[0].Question != question {
		t.Errorf("next got %+v", next.recs)
	}
}

type detailBody struct {
	ID              uint64      `json:"id"`
	Question        string      `json:"question"`
	OriginalAnswer  string      `json:"original_answer"`
	CorrectedAnswer string      `json:"corrected_answer"`
	Diff            []chunkJSON `json:"diff"`
	Note            string      `json:"note"`
}

func TestDashboardDetailWithCapture(t *testing.T) {
	d, srv := newTest(t, Config{AdminKey: testKey, CaptureContent: true}, nil)
	d.Record(contentRecord("exp", "treatment"))
	off := contentRecord("exp", "control")
	off.CaptureContent = false // the experiment did not capture
	d.Record(off)

	code, body := get(t, srv, "/ui/api/records/1", testKey)
	var got detailBody
	if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil {
		t.Fatalf("detail: %d %v %s", code, err, body)
	}
	if got.Question != question || got.OriginalAnswer != original || got.CorrectedAnswer != corrected {
		t.Errorf("detail content %+v", got)
	}
	ops := map[string]string{}
	for _, c := range got.Diff {
		ops[c.Op] += c.Text
	}
	if !strings.Contains(ops["delete"], "loudly") || !strings.Contains(ops["insert"], "softly") ||
		!strings.Contains(ops["insert"], "morning") || !strings.Contains(ops["equal"], "zorblat") {
		t.Errorf("diff %+v: want loudly deleted, softly and morning inserted", got.Diff)
	}

	_, body = get(t, srv, "/ui/api/records/2", testKey)
	if strings.Contains(body, "zorblat") || !strings.Contains(body, noteRecordOff) {
		t.Errorf("uncaptured record's detail: %s", body)
	}
	if code, _ := get(t, srv, "/ui/api/records/99", testKey); code != http.StatusNotFound {
		t.Errorf("missing record: %d, want 404", code)
	}
}

type recordsBody struct {
	Newest   uint64       `json:"newest"`
	RingSize int          `json:"ring_size"`
	Records  []recordJSON `json:"records"`
}

func TestDashboardRingBounded(t *testing.T) {
	const size = 5
	next := &captured{}
	d, srv := newTest(t, Config{AdminKey: testKey, RingSize: size, CaptureContent: true}, next)
	for i := range 2 * size {
		r := contentRecord("exp", "arm"+strconv.Itoa(i%2))
		r.LatencyMS = int64(i + 1)
		d.Record(r)
	}
	_, body := get(t, srv, "/ui/api/records", testKey)
	var got recordsBody
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != size || got.Newest != 2*size || got.RingSize != size {
		t.Fatalf("records: %d held, newest %d; want %d held, newest %d", len(got.Records), got.Newest, size, 2*size)
	}
	for i, r := range got.Records { // newest first: IDs 10..6, latencies 10..6
		if want := uint64(2*size - i); r.ID != want || r.LatencyMS != int64(want) {
			t.Errorf("records[%d] = id %d latency %d, want %d", i, r.ID, r.LatencyMS, want)
		}
	}
	if code, _ := get(t, srv, "/ui/api/records/"+strconv.Itoa(size), testKey); code != http.StatusNotFound {
		t.Errorf("evicted record %d: %d, want 404", size, code)
	}
	if code, _ := get(t, srv, "/ui/api/records/"+strconv.Itoa(size+1), testKey); code != http.StatusOK {
		t.Errorf("oldest kept record %d: %d, want 200", size+1, code)
	}
	_, body = get(t, srv, "/ui/api/records?after=8", testKey)
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Records) != 2 || got.Records[0].ID != 10 {
		t.Errorf("after=8: %+v %v", got.Records, err)
	}
	if len(next.recs) != 2*size {
		t.Errorf("next got %d records, want %d", len(next.recs), 2*size)
	}
	// Tallies count every record, evicted ones included.
	_, body = get(t, srv, "/ui/api/summary", testKey)
	var sum struct {
		Experiments []experimentJSON `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Experiments) != 1 || len(sum.Experiments[0].Arms) != 2 || sum.Experiments[0].Arms[0].Records != size {
		t.Errorf("summary experiments %+v: want exp with two arms of %d records", sum.Experiments, size)
	}
}

// TestUnenrolledRecordsStayInTheRing checks that records of requests no
// experiment enrolled (the proxy sends them with RecordAll) are shown but
// not passed on to the sink, which keeps experiment records only.
func TestUnenrolledRecordsStayInTheRing(t *testing.T) {
	next := &captured{}
	d, srv := newTest(t, Config{AdminKey: testKey, CaptureContent: true}, next)
	unenrolled := contentRecord("", "")
	unenrolled.CaptureContent = false // no experiment says so: the process setting decides
	d.Record(unenrolled)
	d.Record(contentRecord("helpfulness", "treatment"))
	if len(next.recs) != 1 || next.recs[0].Experiment != "helpfulness" {
		t.Errorf("sink got %+v, want only the experiment record", next.recs)
	}
	if status, body := get(t, srv, "/ui/api/records", testKey); status != http.StatusOK || strings.Count(body, `"route"`) != 2 {
		t.Errorf("records %d %s: want both", status, body)
	}
	if status, body := get(t, srv, "/ui/api/records/1", testKey); status != http.StatusOK || !strings.Contains(body, question) {
		t.Errorf("unenrolled record %d %s: want its content (capture on)", status, body)
	}
	d2, srv2 := newTest(t, Config{AdminKey: testKey}, nil)
	d2.Record(unenrolled)
	if _, body := get(t, srv2, "/ui/api/records/1", testKey); strings.Contains(body, question) {
		t.Errorf("capture off: unenrolled record shows content: %s", body)
	}
}
