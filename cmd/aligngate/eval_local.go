package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/eval"
	"github.com/aligngate/aligngate/llamacorrect"
	"github.com/aligngate/aligngate/llamacpp"
)

// This file holds the eval's in-process pieces: the corrector built from
// the serve configuration and the local GGUF judge. eval itself imports
// neither correct nor llamacpp; it sees them through eval.Corrector and
// eval.Chatter.

// inProcessCorrector adapts the configured correct.Corrector to
// eval.Corrector.
type inProcessCorrector struct {
	c      *correct.Corrector
	engine *llamacpp.Engine // nil without a local model
	about  string
}

// Correct implements eval.Corrector. A fallback (budget, busy backend) is
// an error, not the original answer: a pair where nothing was corrected
// says nothing about the correction.
func (p *inProcessCorrector) Correct(ctx context.Context, question, answer string) (string, error) {
	out, err := p.c.Align(ctx, correct.Request{Mode: correct.ModeAligner, Question: question, Answer: answer, FailClosed: true, NoCache: true}, nil)
	if err != nil {
		return "", err
	}
	return out.Text, nil
}

func (p *inProcessCorrector) close() {
	if p.engine != nil {
		_ = p.engine.Close()
	}
}

// openCorrector builds the corrector from --config (or the defaults) and
// --aligner-model, the way serve builds it, without cache or telemetry.
//
// TODO(merge): once the issue-10 refactor of cmd/aligngate/wire.go lands,
// build the corrector with its shared constructor instead of this copy of
// buildCorrector.
func openCorrector(f *evalFlags, logger *slog.Logger) (*inProcessCorrector, error) {
	cfg, err := config.Load(f.config, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if f.alignerModel != "" {
		cfg.LlamaCpp.ModelPath = f.alignerModel
	}
	if lib := os.Getenv("YZMA_LIB"); lib != "" && (cfg.LlamaCpp.LibDir == "" || cfg.LlamaCpp.LibDir == llamacpp.DefaultLibDir) {
		cfg.LlamaCpp.LibDir = lib
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	p := &inProcessCorrector{}
	models := map[string]correct.Model{}
	var parts []string
	if cfg.LlamaCpp.ModelPath != "" {
		if p.engine, err = llamacpp.Open(cfg.LlamaCpp, logger); err != nil {
			return nil, err
		}
		models[correct.BackendLocal] = llamacorrect.New(p.engine)
		parts = append(parts, "local llama.cpp "+filepath.Base(cfg.LlamaCpp.ModelPath))
	}
	if cfg.Correct.Remote.BaseURL != "" {
		client := &http.Client{Transport: correct.NewRemoteTransport()}
		r, err := correct.NewRemote(cfg.Correct.Remote, client, nil)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("correct.remote: %w", err)
		}
		models[correct.BackendRemote] = r
		parts = append(parts, "remote "+r.ModelID())
	}
	if len(models) == 0 {
		return nil, fmt.Errorf("%w: --dataset needs a corrector: --aligner-model PATH, or --config with llamacpp.model_path or correct.remote", eval.ErrUsage)
	}
	ccfg := cfg.Correct
	if models[ccfg.Backend] == nil {
		for name := range models {
			ccfg.Backend = name
		}
	}
	if p.c, err = correct.New(ccfg, models, nil, logger); err != nil {
		p.close()
		return nil, err
	}
	c := p.c.Config()
	p.about = fmt.Sprintf("in-process aligngate corrector (mode aligner, backend %s: %s; template %s; max_tokens %d)",
		c.Backend, strings.Join(parts, ", "), c.Template, c.Sampling.MaxTokens)
	return p, nil
}

// isLocalJudge reports whether --judge-model names a GGUF file to load
// in-process: only without --judge-url, since an endpoint's model may be
// named after its file.
func (f *evalFlags) isLocalJudge() bool {
	return f.judgeURL == "" && strings.HasSuffix(strings.ToLower(f.judgeModel), ".gguf")
}

// localJudge is an eval.Chatter on a GGUF model loaded in-process, greedy.
type localJudge struct {
	engine    *llamacpp.Engine
	maxTokens int
}

// openLocalJudge loads the judge model with its own engine.
func openLocalJudge(f *evalFlags, logger *slog.Logger) (*localJudge, error) {
	cfg := llamacpp.Config{ModelPath: f.judgeModel, LibDir: os.Getenv("YZMA_LIB"), ContextSize: f.judgeContext, Parallel: max(1, f.concurrency)}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e, err := llamacpp.Open(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	return &localJudge{engine: e, maxTokens: f.judgeMaxTokens}, nil
}

// Chat implements eval.Chatter: the conversation rendered with the model's
// own chat template (through llama.cpp), then greedy generation up to
// maxTokens, which must leave room for the reasoning the judge is asked to
// give before its verdict. Generation stops at the model's end of turn.
func (j *localJudge) Chat(ctx context.Context, system, user string) (string, error) {
	prompt, err := j.engine.ApplyChatTemplate([]llamacpp.ChatMessage{{Role: "system", Content: system}, {Role: "user", Content: user}}, true)
	if err != nil {
		return "", fmt.Errorf("judge: %w", err)
	}
	res, err := j.engine.Generate(ctx, prompt, llamacpp.Params{MaxTokens: j.maxTokens}, nil)
	if err != nil {
		return "", fmt.Errorf("judge: %w", err)
	}
	return res.Text, nil
}

func (j *localJudge) close() { _ = j.engine.Close() }
