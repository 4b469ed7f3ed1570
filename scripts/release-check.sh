#!/usr/bin/env bash
# scripts/release-check.sh: prove that a release would build and work, without
# publishing anything (`make release-check`; .ci/run runs it).
#
# 1. goreleaser check: .goreleaser.yaml is valid.
# 2. goreleaser release --snapshot --clean --skip=publish: every archive,
#    package, checksum and the Homebrew cask are built into dist/ (gitignored).
#    The before-hook regenerates docs and completions first.
# 3. The snapshot's own linux/amd64 binary runs: `connctl version` and
#    `connctl version -o json` report a version and the commit of HEAD, and
#    `--version` prints the same first line as `version`.
# 4. The archive and the .deb hold what the README promises: the binary,
#    README, LICENSE, completions and man pages, each in its standard place.
#
# Takes about 7 minutes on a fresh machine (building goreleaser once, then
# cross-compiling six targets with a cold cache), well under a minute after.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

GORELEASER=(scripts/goreleaser.sh)

fail() {
	echo "release-check: $*" >&2
	exit 1
}

echo "release-check: goreleaser check"
"${GORELEASER[@]}" check

echo "release-check: goreleaser release --snapshot (log in dist/goreleaser.log)"
log=$(mktemp "${TMPDIR:-/tmp}/connctl-goreleaser.XXXXXX")
trap 'rm -f "$log"' EXIT
start=$SECONDS
if ! "${GORELEASER[@]}" release --snapshot --clean --skip=publish >"$log" 2>&1; then
	cat "$log" >&2
	fail "goreleaser release --snapshot failed"
fi
cp "$log" dist/goreleaser.log
echo "release-check: snapshot built in $((SECONDS - start))s"

# --- the binary --------------------------------------------------------------
shopt -s nullglob
bins=(dist/connctl_linux_amd64*/connctl)
((${#bins[@]} == 1)) || fail "want one linux/amd64 binary in dist/, found ${#bins[@]}: ${bins[*]}"
bin=${bins[0]}
head=$(git rev-parse HEAD)

text=$("$bin" version) || fail "$bin version exited $?"
first=$(head -n 1 <<<"$text")
[[ $first =~ ^connctl\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "connctl version: first line is '$first', want 'connctl X.Y.Z...'"
grep -qx "commit:  $head" <<<"$text" || fail "connctl version does not name HEAD ($head):"$'\n'"$text"
vflag=$("$bin" --version) || fail "$bin --version exited $?"
[[ $(head -n 1 <<<"$vflag") == "$first" ]] || fail "connctl --version says '$vflag', connctl version says '$first'"

json=$("$bin" version -o json) || fail "$bin version -o json exited $?"
# The binary's own --jq reads its JSON: no jq needed on the machine.
version=$("$bin" version --jq .version)
commit=$("$bin" version --jq .commit)
date=$("$bin" version --jq .date)
gover=$("$bin" version --jq .go_version)
[[ -n $version && $version != dev ]] || fail "version -o json: version is '$version':"$'\n'"$json"
[[ $commit == "$head" ]] || fail "version -o json: commit is '$commit', HEAD is $head"
[[ $date =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] || fail "version -o json: date is '$date', want RFC 3339"
[[ $gover == go* ]] || fail "version -o json: go_version is '$gover'"
echo "release-check: $bin: version $version, commit $commit, date $date, $gover"

# --- what the archive and the package hold -----------------------------------
want_docs=(completions/connctl.bash completions/connctl.zsh completions/connctl.fish completions/connctl.ps1)
mapfile -t man_pages < <(cd docs/man && ls -- *.1)
((${#man_pages[@]})) || fail "docs/man has no man pages"

archives=(dist/connctl_*_linux_amd64.tar.gz)
((${#archives[@]} == 1)) || fail "want one linux/amd64 archive in dist/, found ${#archives[@]}"
listing=$(tar -tzf "${archives[0]}")
for f in connctl README.md LICENSE "${want_docs[@]}" "${man_pages[@]/#/docs/man/}"; do
	grep -qx "$f" <<<"$listing" || fail "${archives[0]} has no $f"
done
echo "release-check: ${archives[0]}: binary, README, LICENSE, 4 completions, ${#man_pages[@]} man pages"

debs=(dist/connctl_*_amd64.deb)
((${#debs[@]} == 1)) || fail "want one amd64 .deb in dist/, found ${#debs[@]}"
if command -v dpkg-deb >/dev/null 2>&1; then
	listing=$(dpkg-deb -c "${debs[0]}" | awk '{print $NF}' | sed 's|^\./|/|')
	for f in /usr/bin/connctl \
		/usr/share/bash-completion/completions/connctl \
		/usr/share/zsh/vendor-completions/_connctl \
		/usr/share/fish/vendor_completions.d/connctl.fish \
		"${man_pages[@]/#//usr/share/man/man1/}"; do
		grep -qx "$f" <<<"$listing" || fail "${debs[0]} does not install $f"
	done
	echo "release-check: ${debs[0]}: binary, bash/zsh/fish completions, ${#man_pages[@]} man pages in place"
else
	echo "release-check: no dpkg-deb here; not checking the .deb's contents"
fi

echo "release-check: ok"
