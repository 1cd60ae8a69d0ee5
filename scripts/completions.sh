#!/usr/bin/env bash
# Writes shell completion scripts into completions/ for release archives.
set -euo pipefail
rm -rf completions
mkdir completions
for sh in bash zsh fish powershell; do
  go run -tags minicore_disabled ./cmd/byob completion "$sh" > "completions/byob.$sh"
done
