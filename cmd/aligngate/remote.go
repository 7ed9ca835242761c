package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aligngate/aligngate/correct"
)

// discoverTimeout bounds the start-time question to a remote backend.
const discoverTimeout = 10 * time.Second

// openRemote opens the remote correction backend. Without a model name it
// takes the one the backend's /v1/models lists, and fails naming the flag
// that sets it when the backend lists none or several.
func openRemote(ctx context.Context, rc correct.RemoteConfig, inject func(context.Context, http.Header), log *slog.Logger) (*correct.Remote, error) {
	client := &http.Client{Transport: correct.NewRemoteTransport()}
	if rc.Model == "" {
		name, err := remoteModel(ctx, rc, client)
		if err != nil {
			return nil, err
		}
		log.Info("remote correction model taken from the backend's /v1/models", "model", name, "base_url", rc.BaseURL)
		rc.Model = name
	}
	return correct.NewRemote(rc, client, inject)
}

// remoteModel asks the backend for its one model.
func remoteModel(ctx context.Context, rc correct.RemoteConfig, client *http.Client) (string, error) {
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	name, err := correct.DiscoverModel(dctx, rc, client)
	switch {
	case errors.Is(err, correct.ErrNoSingleModel):
		return "", fmt.Errorf("%w: set it with --aligner-remote-model NAME (correct.remote.model)", err)
	case err != nil:
		return "", fmt.Errorf("%w (no model name given: set --aligner-remote-model NAME or correct.remote.model to skip this question)", err)
	}
	return name, nil
}
