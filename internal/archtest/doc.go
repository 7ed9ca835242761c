// Package archtest holds no code: its test checks the import rules that
// keep dependencies flowing one way (cmd → proxy → {policies, correct,
// cache, telemetry}; the llama.cpp engine reached only through the
// llamacorrect adapter). It imports nothing.
package archtest
