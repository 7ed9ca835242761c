package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/policies"
)

// runCheck loads what serve would load from a config file, without
// serving: the file itself, the model file's header, the llama.cpp
// libraries, the template names and the remote model name; Redis is asked
// too, and an unanswered one is a warning, as serve starts without it.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "config `file` to check")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if *file == "" {
		return errors.New("check: --config FILE is required")
	}
	cfg, err := loadConfig(serveFlags{config: *file, libDir: os.Getenv("YZMA_LIB")})
	if err != nil {
		return err // names the unset variables itself
	}
	if data, err := os.ReadFile(*file); err == nil {
		if unset := config.Unset(data, os.LookupEnv); len(unset) > 0 {
			fmt.Fprintf(stdout, "warning: unset environment variables, expanded to \"\": %s\n", strings.Join(unset, ", "))
		}
	}
	c := &checker{ctx: ctx, out: stdout}
	c.model(cfg)
	c.templates(cfg)
	c.remote(cfg)
	c.redis("cache.redis_url", cfg.Cache.RedisURL)
	if cfg.Policies.Records.Sink == policies.SinkRedis {
		c.redis("policies.records.redis_url", cfg.Policies.Records.RedisURL)
	}
	if len(c.errs) > 0 {
		return fmt.Errorf("check %s:\n  %s", *file, strings.ReplaceAll(errors.Join(c.errs...).Error(), "\n", "\n  "))
	}
	fmt.Fprintf(stdout, "%s: ok\n", *file)
	return nil
}

// checker collects the problems of one check and prints what it found.
type checker struct {
	ctx  context.Context
	out  io.Writer
	errs []error
}

func (c *checker) fail(err error) { c.errs = append(c.errs, err) }

// model reads the model file's header and checks the libraries serve
// would load for it.
func (c *checker) model(cfg *config.Config) {
	if cfg.LlamaCpp.ModelPath == "" {
		return
	}
	if info, err := llamacpp.CheckModel(cfg.LlamaCpp.ModelPath); err != nil {
		c.fail(err)
	} else {
		fmt.Fprintf(c.out, "llamacpp.model_path: %s: GGUF v%d, %s, %d tensors, %d bytes\n",
			cfg.LlamaCpp.ModelPath, info.Version, info.Arch, info.TensorCount, info.FileSize)
	}
	if dir, err := llamacpp.CheckLibrary(cfg.LlamaCpp.LibDir); err != nil {
		c.fail(err)
	} else {
		fmt.Fprintf(c.out, "llamacpp.lib_dir: %s: llama.cpp %s (ggml %s)\n", dir, llamacpp.LibraryVersion, llamacpp.GGMLVersion)
	}
}

// templates checks the template every policy action names.
func (c *checker) templates(cfg *config.Config) {
	for _, u := range policyTemplates(&cfg.Policies) {
		if err := cfg.Correct.CheckTemplate(u.name, u.mode); err != nil {
			c.fail(fmt.Errorf("%s.template: %w", u.where, err))
		}
	}
}

// remote asks a remote backend without a model name for it, as serve does.
func (c *checker) remote(cfg *config.Config) {
	rc := cfg.Correct.Remote
	if rc.BaseURL == "" || rc.Model != "" {
		return
	}
	if _, err := openRemote(c.ctx, rc, nil, slog.New(slog.DiscardHandler)); err != nil {
		c.fail(err)
		return
	}
	fmt.Fprintf(c.out, "correct.remote: %s lists one model\n", rc.BaseURL)
}

// redis pings a configured Redis; serve starts without one, so no answer
// is a warning.
func (c *checker) redis(key, rawURL string) {
	if rawURL == "" {
		return
	}
	if err := pingRedis(c.ctx, rawURL); err != nil {
		fmt.Fprintf(c.out, "warning: %s: %s did not answer (serve starts without it): %v\n", key, redactURL(rawURL), err)
		return
	}
	fmt.Fprintf(c.out, "%s: %s answered\n", key, redactURL(rawURL))
}

// templateUse is one policy action's template.
type templateUse struct{ where, name, mode string }

// policyTemplates lists the templates the policy actions name, each with
// the mode it would be used in (the action's, else the default's).
func policyTemplates(p *policies.Config) []templateUse {
	var uses []templateUse
	add := func(where string, a policies.Action) {
		if a.Template == "" {
			return
		}
		mode := a.Mode
		if mode == "" {
			mode = p.Default.Mode
		}
		uses = append(uses, templateUse{where, a.Template, mode})
	}
	add("policies.default", p.Default)
	for i, r := range p.Rules {
		add(fmt.Sprintf("policies.rules[%d].action", i), r.Action)
	}
	for i, e := range p.Experiments {
		for j, a := range e.Arms {
			add(fmt.Sprintf("policies.experiments[%d].arms[%d].action", i, j), a.Action)
		}
	}
	return uses
}
