#!/usr/bin/env bash
# scripts/lint.sh: gofmt check and go vet over the whole module. Lists every
# unformatted file and fails if there is one. Runs golangci-lint too when it is
# installed and the repo has a .golangci.yml (it is not required).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0

# Skip testdata (scripts may hold deliberately odd Go), vendored and built trees.
mapfile -t files < <(find . \( -name .git -o -name vendor -o -name testdata -o -name node_modules \
	-o -path ./dist -o -path ./bin \) -prune -o -type f -name '*.go' -print | sort)
if ((${#files[@]})); then
	unformatted=$(gofmt -l "${files[@]}")
	if [[ -n $unformatted ]]; then
		echo "lint: these files are not gofmt-formatted (run: gofmt -w <file>):" >&2
		sed 's/^/  /' <<<"$unformatted" >&2
		status=1
	else
		echo "lint: gofmt ok (${#files[@]} files)"
	fi
fi

if go vet ./...; then
	echo "lint: go vet ok"
else
	status=1
fi

if [[ -f .golangci.yml ]] && command -v golangci-lint >/dev/null 2>&1; then
	golangci-lint run ./... || status=1
fi

exit "$status"
