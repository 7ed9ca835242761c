package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The bad-input table: every kind of bad input through every route, in
// modes off and aligner. Each request gets the status README's "Errors"
// section documents and an OpenAI-shaped body (net/http's own answers to
// a malformed request line or oversized headers may be plain text), what
// the proxy refuses never reaches the upstream, and the proxy stays up.

// class is how a route treats its body.
type class int

const (
	clsChat   class = iota // POST /v1/chat/completions: validated, corrected
	clsText                // POST /v1/completions, /v1/responses: validated, forwarded
	clsModels              // GET /v1/models: the body is never read
	clsPass                // any other /v1 route: forwarded as is
)

type route struct {
	name, method, path, valid string
	cls                       class
}

var badInputRoutes = []route{
	{"chat", "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, clsChat},
	{"completions", "POST", "/v1/completions", `{"model":"m","prompt":"hi"}`, clsText},
	{"responses", "POST", "/v1/responses", `{"model":"m","input":"hi"}`, clsText},
	{"models", "GET", "/v1/models", ``, clsModels},
	{"passthrough", "POST", "/v1/embeddings", `{"model":"m","input":"hi"}`, clsPass},
}

// send says how a raw request's body travels.
type send int

const (
	sendFull     send = iota // Content-Length and the whole body
	sendChunked              // Transfer-Encoding: chunked
	sendStall                // Content-Length: announced, then nothing
	sendShort                // Content-Length past the body, then the write side closed
	sendBadChunk             // a chunk size that is not hex
	sendLiteral              // literal bytes, no request built
)

type rawReq struct {
	method, target string
	header         []string // "Key: value"
	body           []byte
	send           send
	announced      int64 // sendStall
}

// want is the documented outcome: refused by the proxy with code, or
// forwarded (the upstream double's status relayed).
type want struct {
	status int
	code   string
	fwd    bool
	plain  bool // written by net/http before any handler
}

func refused(status int, code string) want { return want{status: status, code: code} }
func fwd(status int) want                  { return want{status: status, fwd: true} }

const (
	tableBodyLimit   = 256 << 10
	tableBodyTimeout = 300 * time.Millisecond
)

// bodyKind builds a request carrying body on r; the models route gets it
// on a GET, which never reads it.
func bodyKind(r route, body string, header ...string) rawReq {
	return rawReq{method: r.method, target: r.path, header: append([]string{"Content-Type: application/json"}, header...), body: []byte(body)}
}

type badKind struct {
	name  string
	build func(r route) rawReq
	want  func(r route, aligner bool) want
}

// byClass is the usual outcome of a body kind: validated routes answer
// validated, chat in aligner mode aligned (defaults to validated), the
// passthrough route pass, the models route forwards and ignores the body.
func byClass(validated, aligned, pass want) func(route, bool) want {
	return func(r route, aligner bool) want {
		switch r.cls {
		case clsModels:
			return fwd(200)
		case clsPass:
			return pass
		case clsChat:
			if aligner && aligned != (want{}) {
				return aligned
			}
		}
		return validated
	}
}

// chatOnly is the outcome of a kind only chat (or chat when correcting)
// refuses; every other route forwards it.
func chatOnly(off, aligned want) func(route, bool) want {
	return func(r route, aligner bool) want {
		if r.cls != clsChat {
			return fwd(200)
		}
		if aligner {
			return aligned
		}
		return off
	}
}

func body(s string) func(route) rawReq { return func(r route) rawReq { return bodyKind(r, s) } }

// notJSON: validated routes refuse, the passthrough upstream refuses.
var notJSON = byClass(refused(400, "invalid_json"), want{}, fwd(400))

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

const badBody = `{"model":`

// pathKind sends a malformed body (a GET without one on models) to the
// route spelled by spell, proving a non-canonical spelling is still
// validated as its route.
func pathKind(spell func(string) string) func(route) rawReq {
	return func(r route) rawReq {
		rq := bodyKind(r, badBody)
		if r.cls == clsModels {
			rq.body = nil
		}
		rq.target = spell(r.path)
		return rq
	}
}

// asRoute: the spelling is routed as the canonical route.
var asRoute = func(r route, _ bool) want {
	switch r.cls {
	case clsModels:
		return fwd(200)
	case clsPass:
		return fwd(400)
	}
	return refused(400, "invalid_json")
}

func all(w want) func(route, bool) want { return func(route, bool) want { return w } }

func rest(p string) string { return strings.TrimPrefix(p, "/v1/") }

// lastSlash replaces the last "/" of p with sep.
func lastSlash(p, sep string) string {
	i := strings.LastIndex(p, "/")
	return p[:i] + sep + p[i+1:]
}

func badKinds() []badKind {
	deep := func(n int) string {
		return `{"model":"m","messages":[{"role":"user","content":"hi"}],"prompt":"hi","input":"hi","x":` +
			strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	chatWith := func(extra string) string {
		return `{"model":"m","messages":[{"role":"user","content":"hi"}],"prompt":"hi","input":"hi",` + extra + `}`
	}
	bodyOnly := byClass(refused(400, "invalid_body"), want{}, refused(400, "invalid_body"))
	return []badKind{
		// Malformed and truncated JSON.
		{"malformed JSON", body(badBody), notJSON},
		{"truncated object", body(`{"model":"m","messages":[{"role":"user","content":"hi"}`), notJSON},
		{"empty body", body(``), notJSON},
		{"whitespace only", body(" \n\t "), notJSON},
		{"null", body(`null`), notJSON},
		{"array", body(`[{"model":"m"}]`), notJSON},
		{"string", body(`"hello"`), notJSON},
		{"number", body(`42`), notJSON},
		{"trailing garbage", body(`{"model":"m","messages":[]} xyz`), notJSON},
		{"two objects", body(`{"model":"m","messages":[]}{"model":"n"}`), notJSON},
		{"byte order mark", body("\xef\xbb\xbf" + `{"model":"m","messages":[],"input":"hi"}`), notJSON},
		{"gzip bytes, no Content-Encoding", body(gzipped(`{"model":"m","messages":[]}`)), notJSON},
		{"deep nesting past the decoder's limit", body(deep(100000)), notJSON},
		// Wrong types and missing fields.
		{"missing model", body(`{"messages":[],"prompt":"hi"}`), byClass(refused(400, "missing_required_parameter"), want{}, fwd(200))},
		{"null model", body(`{"model":null,"messages":[]}`), byClass(refused(400, "missing_required_parameter"), want{}, fwd(200))},
		{"model a number", body(`{"model":7,"messages":[]}`), byClass(refused(400, "invalid_type"), want{}, fwd(200))},
		{"model empty", body(`{"model":"","messages":[]}`), byClass(refused(400, "invalid_type"), want{}, fwd(200))},
		{"model an object", body(`{"model":{"id":"m"},"messages":[]}`), byClass(refused(400, "invalid_type"), want{}, fwd(200))},
		{"model an array", body(`{"model":["m"],"messages":[]}`), byClass(refused(400, "invalid_type"), want{}, fwd(200))},
		{"stream a string", body(chatWith(`"stream":"yes"`)), byClass(refused(400, "invalid_type"), want{}, fwd(200))},
		{"missing messages", body(`{"model":"m","prompt":"hi","input":"hi"}`), chatOnly(refused(400, "missing_required_parameter"), refused(400, "missing_required_parameter"))},
		{"null messages", body(`{"model":"m","messages":null,"prompt":"hi","input":"hi"}`), chatOnly(refused(400, "missing_required_parameter"), refused(400, "missing_required_parameter"))},
		{"messages a string", body(`{"model":"m","messages":"hi","prompt":"hi","input":"hi"}`), chatOnly(refused(400, "invalid_type"), refused(400, "invalid_type"))},
		{"messages an object", body(`{"model":"m","messages":{"role":"user"},"prompt":"hi","input":"hi"}`), chatOnly(refused(400, "invalid_type"), refused(400, "invalid_type"))},
		{"messages of non-objects", body(`{"model":"m","messages":[1,"x"],"prompt":"hi","input":"hi"}`), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"role a number", body(`{"model":"m","messages":[{"role":1,"content":"hi"}],"prompt":"hi","input":"hi"}`), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"content a number", body(`{"model":"m","messages":[{"role":"user","content":5}],"prompt":"hi","input":"hi"}`), all(fwd(200))},
		{"n a float", body(chatWith(`"n":1.0`)), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"n a string", body(chatWith(`"n":"2"`)), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"n past int64", body(chatWith(`"n":99999999999999999999`)), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"huge n", body(chatWith(`"n":1000000`)), all(fwd(200))},
		{"huge max_tokens", body(chatWith(`"max_tokens":1000000000`)), all(fwd(200))},
		{"negative max_tokens", body(chatWith(`"max_tokens":-1`)), all(fwd(200))},
		{"logprobs a string", body(chatWith(`"logprobs":"yes"`)), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"response_format a string", body(chatWith(`"response_format":"json"`)), chatOnly(fwd(200), refused(400, "invalid_type"))},
		{"deep nesting within the limit", body(deep(5000)), all(fwd(200))},
		// Encodings.
		{"invalid UTF-8 in content", body("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\xfeb\"}],\"prompt\":\"a\xffb\",\"input\":\"a\xffb\"}"), all(fwd(200))},
		{"invalid UTF-8 in model", body("{\"model\":\"m\xc3\x28\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"prompt\":\"hi\",\"input\":\"hi\"}"), all(fwd(200))},
		{"lone surrogate escape", body(`{"model":"m","messages":[{"role":"user","content":"\ud800"}],"prompt":"\ud800","input":"\ud800"}`), all(fwd(200))},
		{"NUL escape", body(`{"model":"m","messages":[{"role":"user","content":"a\u0000b"}],"prompt":"a\u0000b","input":"a\u0000b"}`), all(fwd(200))},
		{"duplicate model keys", body(chatWith(`"model":"other"`)), all(fwd(200))},
		{"duplicate messages keys, the last a string", body(chatWith(`"messages":"hi"`)), chatOnly(refused(400, "invalid_type"), refused(400, "invalid_type"))},
		{"gzip body with Content-Encoding", func(r route) rawReq {
			return bodyKind(r, gzipped(`{"model":"m","messages":[],"input":"hi"}`), "Content-Encoding: gzip")
		}, byClass(refused(415, "unsupported_content_encoding"), want{}, fwd(400))},
		{"Content-Encoding br on a plain body", func(r route) rawReq {
			return bodyKind(r, chatWith(`"y":1`), "Content-Encoding: br")
		}, byClass(refused(415, "unsupported_content_encoding"), want{}, fwd(200))},
		{"text/plain content type", func(r route) rawReq {
			rq := bodyKind(r, chatWith(`"y":1`))
			rq.header = []string{"Content-Type: text/plain"}
			return rq
		}, all(fwd(200))},
		// Size and pace.
		{"oversize with Content-Length", func(r route) rawReq {
			rq := bodyKind(r, "")
			rq.send, rq.announced = sendStall, tableBodyLimit+1
			return rq
		}, byClass(refused(413, "request_too_large"), want{}, refused(413, "request_too_large"))},
		{"oversize chunked", func(r route) rawReq {
			rq := bodyKind(r, chatWith(`"pad":"`+strings.Repeat("x", tableBodyLimit)+`"`))
			rq.send = sendChunked
			return rq
		}, byClass(refused(413, "request_too_large"), want{}, refused(413, "request_too_large"))},
		{"body shorter than its Content-Length", func(r route) rawReq {
			rq := bodyKind(r, chatWith(`"y":1`))
			rq.send = sendShort
			return rq
		}, bodyOnly},
		{"bad chunk size", func(r route) rawReq {
			rq := bodyKind(r, "")
			rq.send = sendBadChunk
			return rq
		}, bodyOnly},
		{"stalled body", func(r route) rawReq {
			rq := bodyKind(r, "")
			rq.send, rq.announced = sendStall, 1000
			return rq
		}, byClass(refused(408, "request_timeout"), want{}, refused(408, "request_timeout"))},
		// Paths: non-canonical spellings are routed as their route,
		// traversal and encoded separators refused.
		{"doubled slash", pathKind(func(p string) string { return "/v1//" + rest(p) }), asRoute},
		{"trailing slash", pathKind(func(p string) string { return p + "/" }), asRoute},
		{"dot segment", pathKind(func(p string) string { return lastSlash(p, "/./") }), asRoute},
		{"dot-dot inside /v1", pathKind(func(p string) string { return "/v1/x/../" + rest(p) }), asRoute},
		{"upper case", pathKind(func(p string) string { return "/v1/" + strings.ToUpper(rest(p)) }), func(r route, a bool) want {
			if r.cls == clsPass {
				return fwd(404) // not a route aligngate knows: forwarded as spelled
			}
			return asRoute(r, a)
		}},
		{"absolute-form target", pathKind(func(p string) string { return "http://evil.invalid" + p }), asRoute},
		{"upgrade headers", func(r route) rawReq {
			rq := pathKind(func(p string) string { return p })(r)
			rq.header = append(rq.header, "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: x")
			if r.cls == clsModels {
				rq.method = "POST" // GET would switch protocols: TestWebSocket*
				rq.body = []byte(badBody)
			}
			return rq
		}, func(r route, a bool) want {
			if r.cls == clsModels {
				return fwd(404) // POST /v1/models is forwarded; the double has no such route
			}
			return asRoute(r, a)
		}},
		{"odd query", pathKind(func(p string) string { return p + "?%zz=1&a=" }), asRoute},
		{"traversal", pathKind(func(p string) string { return "/v1/../" + rest(p) }), all(refused(400, "invalid_path_traversal"))},
		{"climbing out of /v1", pathKind(func(p string) string { return p + "/../../../admin" }), all(refused(400, "invalid_path_traversal"))},
		{"encoded dots", pathKind(func(p string) string { return "/v1/%2e%2e/" + rest(p) }), all(refused(400, "invalid_path_encoding"))},
		{"encoded slash", pathKind(func(p string) string { return lastSlash(p, "%2F") }), all(refused(400, "invalid_path_encoding"))},
		{"double-encoded dots", pathKind(func(p string) string { return "/v1/%252e%252e/" + rest(p) }), all(refused(400, "invalid_path_encoding"))},
		{"backslash", pathKind(func(p string) string { return lastSlash(p, `\`) }), all(refused(400, "invalid_path_encoding"))}, // net/http re-encodes it as %5C
		{"matrix parameter", pathKind(func(p string) string { return p + ";x=1" }), all(refused(400, "invalid_path"))},
		{"encoded NUL", pathKind(func(p string) string { return p + "%00" }), all(refused(400, "invalid_path"))},
		{"outside /v1", pathKind(func(p string) string { return "/v2/" + rest(p) }), all(refused(404, "unknown_url"))},
		{"malformed escape", pathKind(func(p string) string { return p + "%zz" }), all(want{status: 400, plain: true})},
		// What net/http answers before any handler, and other methods.
		{"malformed request line", func(route) rawReq {
			return rawReq{send: sendLiteral, body: []byte("GARBAGE\r\n\r\n")}
		}, all(want{status: 400, plain: true})},
		{"oversized headers", func(r route) rawReq {
			rq := bodyKind(r, chatWith(`"y":1`), "X-Big: "+strings.Repeat("a", 1<<20+8192))
			return rq
		}, all(want{status: 431, plain: true})},
		{"other method", func(r route) rawReq {
			rq := rawReq{method: "PUT", target: r.path, header: []string{"Content-Type: application/json"}, body: []byte(`{}`)}
			return rq
		}, all(fwd(404))},
	}
}

// tableUpstream is a lenient upstream double: it serves every known route
// with a minimal answer, refuses what it cannot parse on the passthrough
// route, and counts the requests that reach it.
func tableUpstream(hits *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		var obj map[string]any
		switch r.Method + " " + r.URL.Path {
		case "GET /v1/models":
			io.WriteString(w, `{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"x"}]}`)
		case "POST /v1/chat/completions":
			io.WriteString(w, okChat)
		case "POST /v1/completions":
			io.WriteString(w, `{"id":"c1","object":"text_completion","model":"m","choices":[{"index":0,"text":"hi","finish_reason":"stop"}]}`)
		case "POST /v1/responses":
			io.WriteString(w, `{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"hi","annotations":[]}]}]}`)
		case "POST /v1/embeddings":
			if json.Unmarshal(b, &obj) != nil || obj == nil {
				w.WriteHeader(400)
				io.WriteString(w, `{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`)
				return
			}
			io.WriteString(w, `{"object":"list","data":[],"model":"m"}`)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"message":"Unknown request URL.","type":"invalid_request_error","param":null,"code":"unknown_url"}}`)
		}
	}
}

// sendRaw writes rq on a fresh connection and reads the response. The
// request is written while the response is read, so a proxy that answers
// before the body is in is seen doing so.
func sendRaw(t *testing.T, addr string, rq rawReq) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a safety net, not an assertion
	go writeRaw(conn, rq)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: rq.method})
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func writeRaw(conn net.Conn, rq rawReq) {
	if rq.send == sendLiteral {
		conn.Write(rq.body)
		return
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", rq.method, rq.target)
	for _, h := range rq.header {
		head.WriteString(h + "\r\n")
	}
	switch rq.send {
	case sendFull:
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(rq.body))
		conn.Write(append([]byte(head.String()), rq.body...))
	case sendChunked:
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		conn.Write([]byte(head.String()))
		for b := rq.body; len(b) > 0; {
			n := min(len(b), 16<<10)
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", n, b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
		io.WriteString(conn, "0\r\n\r\n")
	case sendStall:
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", rq.announced)
		conn.Write([]byte(head.String()))
	case sendShort:
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(rq.body)+100)
		conn.Write(append([]byte(head.String()), rq.body...))
		conn.(*net.TCPConn).CloseWrite()
	case sendBadChunk:
		head.WriteString("Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
		conn.Write([]byte(head.String()))
	}
}

func TestBadInputTable(t *testing.T) {
	kinds := badKinds()
	if len(kinds) < 40 {
		t.Fatalf("%d kinds of bad input, want at least 40", len(kinds))
	}
	for _, mode := range []string{"off", "aligner"} {
		t.Run(mode, func(t *testing.T) {
			var hits atomic.Int32
			up := httptest.NewServer(tableUpstream(&hits))
			defer up.Close()
			be := &backend{respond: fixed("Good.")}
			bts := be.server(t)
			px := correctingProxy(t, up.URL, bts.URL, mode, func(c *testConfig) {
				c.Server.MaxBodyBytes = tableBodyLimit
				c.Server.BodyTimeout = tableBodyTimeout
			})
			addr := px.Listener.Addr().String()
			for _, k := range kinds {
				for _, r := range badInputRoutes {
					t.Run(k.name+"/"+r.name, func(t *testing.T) {
						checkBadInput(t, addr, &hits, k.build(r), k.want(r, mode == "aligner"), r.cls == clsChat && mode == "aligner")
					})
				}
			}
			// The proxy is still up and serves a good request.
			resp, b := sendRaw(t, addr, bodyKind(badInputRoutes[0], badInputRoutes[0].valid))
			if resp.StatusCode != 200 || !json.Valid(b) {
				t.Fatalf("after the table: status %d: %s", resp.StatusCode, b)
			}
			resp, _ = sendRaw(t, addr, rawReq{method: "GET", target: "/healthz"})
			if resp.StatusCode != 200 {
				t.Fatalf("after the table: /healthz %d", resp.StatusCode)
			}
		})
	}
}

// checkBadInput sends one bad request and checks its documented outcome.
// A chat answer forwarded in aligner mode must have been corrected.
func checkBadInput(t *testing.T, addr string, hits *atomic.Int32, rq rawReq, w want, corrects bool) {
	t.Helper()
	before := hits.Load()
	resp, b := sendRaw(t, addr, rq)
	reached := hits.Load() - before
	if resp.StatusCode != w.status {
		t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, w.status, b)
	}
	switch {
	case w.fwd && reached != 1:
		t.Errorf("upstream reached %d times, want once", reached)
	case !w.fwd && reached != 0:
		t.Errorf("a refused request reached the upstream %d times", reached)
	}
	if w.plain {
		return
	}
	if resp.StatusCode >= 400 {
		e := decodeError(t, b)
		if w.code != "" && (e.Error.Code == nil || *e.Error.Code != w.code) {
			t.Errorf("code %v, want %q: %s", e.Error.Code, w.code, b)
		}
		return
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Errorf("a 200 whose body is not a JSON object: %v: %.300s", err, b)
	}
	if corrects && w.fwd && resp.Header.Get(headerCorrected) != "true" {
		t.Errorf("forwarded in aligner mode but %s=%q (skipped %q)", headerCorrected,
			resp.Header.Get(headerCorrected), resp.Header.Get(headerSkipped))
	}
}
