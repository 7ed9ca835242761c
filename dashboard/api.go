package dashboard

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aligngate/aligngate/eval"
)

// Notes shown where content would be.
const (
	noteCaptureOff = "Content capture is off (telemetry.capture_content is false): only counts are shown."
	noteRecordOff  = "This request's content was not captured (its experiment has capture_content off)."
)

// recordJSON is a record's row: never content.
type recordJSON struct {
	ID             uint64    `json:"id"`
	Time           time.Time `json:"time"`
	Route          string    `json:"route"`
	Model          string    `json:"model"`
	Mode           string    `json:"mode"`
	Experiment     string    `json:"experiment"`
	Arm            string    `json:"arm"`
	Cache          string    `json:"cache"`
	LatencyMS      int64     `json:"latency_ms"`
	UpstreamMS     int64     `json:"upstream_ms"`
	CorrectionMS   int64     `json:"correction_ms"`
	Corrected      bool      `json:"corrected"`
	Fallback       bool      `json:"fallback"`
	FallbackReason string    `json:"fallback_reason,omitempty"`
	DraftTokens    int       `json:"draft_tokens,omitempty"`
	DraftAccepted  int       `json:"draft_accepted,omitempty"`
	Content        bool      `json:"content"`
}

// detailJSON adds content and its diff when the record has them.
type detailJSON struct {
	recordJSON
	Question        string      `json:"question,omitempty"`
	OriginalAnswer  string      `json:"original_answer,omitempty"`
	CorrectedAnswer string      `json:"corrected_answer,omitempty"`
	Diff            []chunkJSON `json:"diff,omitempty"`
	Note            string      `json:"note,omitempty"`
}

type chunkJSON struct {
	Op   string `json:"op"` // equal, delete or insert
	Text string `json:"text"`
}

var opNames = map[eval.Op]string{eval.Equal: "equal", eval.Delete: "delete", eval.Insert: "insert"}

func rowOf(e entry) recordJSON {
	r := e.Rec
	return recordJSON{
		ID: e.ID, Time: r.Time, Route: r.Route, Model: r.Model, Mode: r.Mode,
		Experiment: r.Experiment, Arm: r.Arm, Cache: r.Cache, LatencyMS: r.LatencyMS,
		UpstreamMS: r.UpstreamMS, CorrectionMS: r.CorrectionMS, Corrected: r.Corrected,
		Fallback: r.Fallback, FallbackReason: r.FallbackReason,
		DraftTokens: r.DraftTokens, DraftAccepted: r.DraftAccepted, Content: e.Content,
	}
}

// records lists records newer than ?after=ID (default all held), newest
// first, at most ?limit= (default and cap: the ring size).
func (d *Dashboard) records(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > d.cfg.RingSize {
		limit = d.cfg.RingSize
	}
	entries, newest := d.ring.after(after, limit)
	rows := make([]recordJSON, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, rowOf(e))
	}
	out := map[string]any{"newest": newest, "ring_size": d.cfg.RingSize, "capture": d.cfg.CaptureContent, "records": rows}
	if !d.cfg.CaptureContent {
		out["note"] = noteCaptureOff
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Dashboard) recordDetail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	e, ok := d.ring.get(id)
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such record (the ring keeps the last " + strconv.Itoa(d.cfg.RingSize) + ")"})
		return
	}
	out := detailJSON{recordJSON: rowOf(e)}
	switch {
	case !d.cfg.CaptureContent:
		out.Note = noteCaptureOff
	case !e.Content:
		out.Note = noteRecordOff
	default:
		out.Question, out.OriginalAnswer, out.CorrectedAnswer = e.Rec.Question, e.Rec.OriginalAnswer, e.Rec.CorrectedAnswer
		for _, c := range eval.WordDiff(e.Rec.OriginalAnswer, e.Rec.CorrectedAnswer) {
			out.Diff = append(out.Diff, chunkJSON{Op: opNames[c.Op], Text: c.Text})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// summary is the experiments, health and eval panels in one response.
func (d *Dashboard) summary(w http.ResponseWriter, r *http.Request) {
	v, err := d.view()
	ctx, cancel := healthContext(r)
	defer cancel()
	h := d.health(ctx, v)
	if err != nil {
		h.MetricsError = err.Error()
	}
	exps := d.experiments(v)
	if exps == nil {
		exps = []experimentJSON{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"experiments": exps, "health": h, "eval": d.evalReport(),
		"capture": d.cfg.CaptureContent, "sample_every_s": d.cfg.SampleEvery.Seconds(),
	})
}

func (d *Dashboard) seriesJSON(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"sample_every_s": d.cfg.SampleEvery.Seconds(), "points": d.series.points()})
}

// evalReport reads the latest eval summary; a missing file is no report,
// not an error.
func (d *Dashboard) evalReport() map[string]any {
	if d.cfg.EvalReport == "" {
		return map[string]any{"configured": false}
	}
	f, err := os.Open(d.cfg.EvalReport)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{"configured": true}
	}
	if err != nil {
		return map[string]any{"configured": true, "error": err.Error()}
	}
	defer f.Close()
	rep, err := eval.ReadResult(f)
	if err != nil {
		return map[string]any{"configured": true, "error": err.Error()}
	}
	return map[string]any{"configured": true, "report": rep}
}
