#!/usr/bin/env bash
# Writes the shell completion scripts into completions/ and the manual
# pages into manpages/ (gzipped), for release archives and packages.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf completions manpages
mkdir completions manpages
go build -tags minicore_disabled,disable_grpc_modules -o completions/.byob ./cmd/byob
for sh in bash zsh fish powershell; do
  completions/.byob completion "$sh" > "completions/byob.$sh"
done
docs=$(mktemp -d)
completions/.byob docs --dir "$docs" > /dev/null
for page in "$docs"/man/*.1; do
  gzip -9n < "$page" > "manpages/$(basename "$page").gz"
done
rm -rf "$docs" completions/.byob
