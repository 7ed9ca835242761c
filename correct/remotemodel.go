package correct

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrNoSingleModel reports that a remote backend without a configured model
// name does not list exactly one model, so none can be picked for it.
var ErrNoSingleModel = errors.New("the backend does not list exactly one model")

// ModelsError is the ErrNoSingleModel of one backend, with what it listed.
type ModelsError struct {
	BaseURL string
	Models  []string
}

func (e *ModelsError) Error() string {
	if len(e.Models) == 0 {
		return fmt.Sprintf("correct: remote: %s/models lists no model", e.BaseURL)
	}
	return fmt.Sprintf("correct: remote: %s/models lists %d models (%s)", e.BaseURL, len(e.Models), strings.Join(e.Models, ", "))
}

// Unwrap makes errors.Is(err, ErrNoSingleModel) hold.
func (e *ModelsError) Unwrap() error { return ErrNoSingleModel }

// DiscoverModel asks the remote backend's GET /v1/models for its model
// names and returns the one it lists. It fails, wrapping ErrNoSingleModel in
// a *ModelsError, when the list holds none or several.
func DiscoverModel(ctx context.Context, cfg RemoteConfig, client *http.Client) (string, error) {
	if client == nil {
		return "", errors.New("correct: remote needs an http.Client")
	}
	base := v1Base(cfg.BaseURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/models", nil)
	if err != nil {
		return "", fmt.Errorf("correct: remote models: %w", err)
	}
	if cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("correct: remote models: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("correct: remote models: %s/models answered %d: %s", base, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&list); err != nil {
		return "", fmt.Errorf("correct: remote models: %s/models: %w", base, err)
	}
	names := make([]string, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID != "" {
			names = append(names, m.ID)
		}
	}
	if len(names) != 1 {
		return "", &ModelsError{BaseURL: base, Models: names}
	}
	return names[0], nil
}

// v1Base returns the server root ending in /v1.
func v1Base(raw string) string {
	base := strings.TrimRight(raw, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	return base
}
