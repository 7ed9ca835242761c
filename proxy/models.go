package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
)

// models serves GET /v1/models. With one upstream the answer is relayed
// as is; with several, each is asked (with its own key, or the client's)
// and their lists are merged, first upstream first, so a client sees every
// model it can route to. An upstream that fails is left out; if all fail,
// the first one's failure is the answer.
func (s *Server) models(in *inbound) {
	if len(s.upstreams) == 1 {
		s.passthrough(in)
		return
	}
	lists := make([][]json.RawMessage, len(s.upstreams))
	var wg sync.WaitGroup
	for i, up := range s.upstreams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lists[i] = s.listModels(in, up)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	merged := []json.RawMessage{}
	for _, l := range lists {
		for _, m := range l {
			var id struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(m, &id) != nil || seen[id.ID] {
				continue
			}
			seen[id.ID] = true
			merged = append(merged, m)
		}
	}
	if len(seen) == 0 {
		s.passthrough(in) // every list failed: answer as the default upstream does
		return
	}
	// Encoded as Gin's Context.JSON did: sorted keys, no trailing newline.
	b, err := json.Marshal(map[string]any{"object": "list", "data": merged})
	if err != nil {
		s.passthrough(in)
		return
	}
	in.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	in.w.WriteHeader(http.StatusOK)
	_, _ = in.w.Write(b)
}

// listModels returns one upstream's model entries, or nil on any failure.
func (s *Server) listModels(in *inbound, up *upstream) []json.RawMessage {
	ex, err := s.do(in.ctx(), s.callFor(in, up, nil))
	if err != nil {
		return nil
	}
	defer ex.Close()
	if ex.resp.StatusCode != http.StatusOK {
		return nil
	}
	var list struct {
		Data []json.RawMessage `json:"data"`
	}
	if json.NewDecoder(io.LimitReader(ex, maxAnswer)).Decode(&list) != nil {
		return nil
	}
	return list.Data
}
