#!/usr/bin/env bash
# Runs every mfagate check: formatting, go vet, golangci-lint (the standard
# linters and the layer rules of .golangci.yml, and a check that those rules
# bite), all tests (the integration tests build the real Caddy binary and
# drive headless Chromium), a Caddy built the way users add plugins (xcaddy
# build --with this module) and a short run of each fuzz target.
#
# Usage, from any directory, on Debian, as root:
#
#     bash scripts/test.sh
#
# It installs what is missing (chromium, postgresql, litmus, nodejs and npm)
# with apt-get, installs axe-core (pinned in integration/axe/package-lock.json,
# for the accessibility check of TestBrowserLayout) with npm ci, installs
# golangci-lint $GOLANGCI_LINT_VERSION with go install unless that version is
# there already (building it takes minutes),
# starts a throwaway PostgreSQL cluster for the tests
# (MFAGATE_TEST_POSTGRES_DSN) and removes it at exit. Not as root, it only says what to install.
#
# Environment:
#   CI                   passed to the tests; CI=true turns skips for missing
#                        tools (Chromium, litmus, axe-core) into failures. .ci/run sets it.
#   FUZZTIME             how long each fuzz target runs (default 10s).
#   MFAGATE_SCREENSHOTS  directory for the browser test's screenshots.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DEBIAN_FRONTEND=noninteractive
FUZZTIME="${FUZZTIME:-10s}"
START_TIME=$(date +%s)

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------

# Go lives in /usr/local/go on the project's machines; a non-login shell may
# not have it on PATH.
for d in /usr/local/go/bin "${HOME:-/root}/go/bin"; do
	case ":$PATH:" in *":$d:"*) ;; *) [ -d "$d" ] && PATH="$PATH:$d" ;; esac
done
export PATH
command -v go >/dev/null || die "go is not installed (the module needs Go $(sed -n 's/^go //p' go.mod)); install it from go.dev/dl into /usr/local/go"

chromium_bin() { command -v chromium || command -v chromium-browser || true; }

# The newest PostgreSQL server's bin directory, or nothing.
pg_bin_dir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; fi
	done | sort -t/ -k4,4n | tail -n1
}

missing=()
[ -n "$(chromium_bin)" ] || missing+=(chromium)
[ -n "$(pg_bin_dir)" ] || missing+=(postgresql)
# litmus: the WebDAV test suite the gateway is checked with (TestLitmusThroughGateway).
command -v litmus >/dev/null || missing+=(litmus)
# node and npm: npm ci installs axe-core, which the layout test injects into
# the pages it checks (TestBrowserLayout).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
	if ! is_root; then
		die "missing: ${missing[*]}. Install them with:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
then run this script again (or run it as root and it installs them)."
	fi
	say "Installing missing packages: ${missing[*]}"
	apt-get update
	apt-get install -y "${missing[@]}"
	[ -n "$(chromium_bin)" ] || die "chromium still missing after apt-get install"
	[ -n "$(pg_bin_dir)" ] || die "PostgreSQL server binaries (initdb, pg_ctl) still missing after apt-get install"
	command -v litmus >/dev/null || die "litmus still missing after apt-get install"
	command -v npm >/dev/null || die "npm still missing after apt-get install"
fi
# axe-core exactly as the lock file pins it; no install scripts run. The
# product never serves it: only the test reads node_modules.
say "Installing axe-core for the accessibility check (npm ci in integration/axe)"
(cd integration/axe && npm ci --ignore-scripts --no-audit --no-fund) || die 'npm ci in integration/axe failed'
CHROMIUM="$(chromium_bin)"
PGBIN="$(pg_bin_dir)"

# ---------------------------------------------------------------------------
# Throwaway PostgreSQL cluster
# ---------------------------------------------------------------------------

PGTMP="$(mktemp -d "${TMPDIR:-/tmp}/mfagate-pg.XXXXXX")"
PGDATA_DIR="$PGTMP/data"
PG_STARTED=""
# The xcaddy stage's temporary directory (set when it starts).
XCADDY_TMP=""
# Throwaway files check_lint_rules_bite writes into the source tree while
# it runs; removed at exit if the run is interrupted.
LINT_PROBES=()

# Runs a PostgreSQL command as the cluster's owner: the postgres user when
# we are root (initdb refuses root), else ourselves.
as_pg() {
	if is_root; then
		(cd "$PGTMP" && runuser -u postgres -- "$@")
	else
		(cd "$PGTMP" && "$@")
	fi
}

cleanup() {
	local rc=$?
	set +e
	if [ -n "$PG_STARTED" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1
	fi
	rm -rf "$PGTMP"
	if [ -n "${XCADDY_TMP:-}" ]; then rm -rf "$XCADDY_TMP"; fi
	if [ "${#LINT_PROBES[@]}" -gt 0 ]; then rm -f "${LINT_PROBES[@]}"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port nothing listens on (bash's /dev/tcp connects; failure means free).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if port_free "$p"; then echo "$p"; return 0; fi
	done
	return 1
}

say "Starting a throwaway PostgreSQL ($PGBIN) in $PGTMP"
if is_root; then
	id postgres >/dev/null 2>&1 || die "no postgres user (it comes with the postgresql package)"
	chown postgres: "$PGTMP"
fi
as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >"$PGTMP/initdb.log" 2>&1 ||
	{ cat "$PGTMP/initdb.log" >&2; die "initdb failed"; }

PGPORT_CHOSEN=""
for attempt in 1 2 3 4 5; do
	port="$(pick_port)" || die "no free port found for PostgreSQL"
	# Trust auth is for this local, loopback-only, throwaway cluster only.
	if as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGTMP/postgres.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null; then
		PG_STARTED=1
		PGPORT_CHOSEN="$port"
		break
	fi
	echo "PostgreSQL did not start on port $port (attempt $attempt); retrying" >&2
	tail -n 5 "$PGTMP/postgres.log" >&2 || true
done
[ -n "$PGPORT_CHOSEN" ] || { cat "$PGTMP/postgres.log" >&2 || true; die "could not start PostgreSQL"; }

as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT_CHOSEN" -U postgres mfagate_test
export MFAGATE_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$PGPORT_CHOSEN/mfagate_test?sslmode=disable"
"$PGBIN/psql" -X -q -t -A -d "$MFAGATE_TEST_POSTGRES_DSN" -c 'select 1' >/dev/null ||
	die "cannot connect to $MFAGATE_TEST_POSTGRES_DSN"
echo "MFAGATE_TEST_POSTGRES_DSN=$MFAGATE_TEST_POSTGRES_DSN"

# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

RESULTS=()
FAILED=0
LOGDIR="$PGTMP/logs"
mkdir -p "$LOGDIR"

# stage NAME CMD...: runs one check, records PASS/FAIL and its time.
stage() {
	local name="$1" t0 rc
	shift
	say "$name"
	t0=$(date +%s)
	set +e
	"$@"
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		RESULTS+=("PASS  $(printf '%4ss' $(($(date +%s) - t0)))  $name")
	else
		RESULTS+=("FAIL  $(printf '%4ss' $(($(date +%s) - t0)))  $name (exit $rc)")
		FAILED=$((FAILED + 1))
	fi
}

go_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# Tracked files, plus new ones not yet added (but not ignored ones).
		git ls-files -z --cached --others --exclude-standard -- '*.go'
	else
		find . -name '*.go' -not -path './.git/*' -print0
	fi
}

check_gofmt() {
	local out
	out="$(go_files | xargs -0 -r gofmt -l)"
	if [ -n "$out" ]; then
		echo "gofmt: these files need formatting (run gofmt -w on them):"
		echo "$out"
		return 1
	fi
	echo "all Go files are gofmt-formatted"
}

TEST_LOG="$LOGDIR/go-test.log"
run_tests() {
	local rc
	echo "Chromium: $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null | tail -n1 || true))"
	echo "litmus: $(command -v litmus)"
	echo "CI=${CI:-}"
	# -v for the counts below and the tests' logs; the per-test RUN/PASS
	# lines are left out of the screen. (stage runs this with set +e.)
	CI="${CI:-}" go test -count=1 -timeout 20m -v ./... 2>&1 | tee "$TEST_LOG" |
		grep --line-buffered -vE '^[[:space:]]*(=== (RUN|PAUSE|CONT|NAME)|--- PASS)'
	rc=${PIPESTATUS[0]}
	return "$rc"
}

# The golangci-lint that check_lint runs; installed with go install (from the
# module proxy) only when this exact version is not found.
GOLANGCI_LINT_VERSION=v2.15.0
GOLANGCI_LINT=""

# install_golangci_lint: finds golangci-lint $GOLANGCI_LINT_VERSION on PATH
# or in Go's install directory, or builds it there; sets GOLANGCI_LINT.
install_golangci_lint() {
	local gobin candidate have
	gobin="$(go env GOBIN)"
	[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
	for candidate in "$(command -v golangci-lint || true)" "$gobin/golangci-lint"; do
		[ -n "$candidate" ] && [ -x "$candidate" ] || continue
		have="$("$candidate" version --short 2>/dev/null || true)"
		if [ "v${have#v}" = "$GOLANGCI_LINT_VERSION" ]; then
			GOLANGCI_LINT="$candidate"
			echo "golangci-lint $GOLANGCI_LINT_VERSION is installed: $candidate"
			return 0
		fi
		echo "$candidate is version ${have:-unknown}, not $GOLANGCI_LINT_VERSION"
	done
	echo "go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION (into $gobin; this takes minutes)"
	GOBIN="$gobin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION" || return 1
	GOLANGCI_LINT="$gobin/golangci-lint"
	"$GOLANGCI_LINT" version
}

# check_lint: golangci-lint with .golangci.yml (the standard linters and
# depguard's layer rules) over the whole module.
check_lint() {
	[ -n "$GOLANGCI_LINT" ] || { echo "FAIL: golangci-lint $GOLANGCI_LINT_VERSION is not installed (see the stage above)"; return 1; }
	"$GOLANGCI_LINT" run ./...
}

# check_lint_rules_bite: the layer rules must fail a violation, not merely
# pass today's code. It adds two throwaway files, a page package importing
# the store and a page package importing another page, lints those two
# packages expecting depguard to name both, and removes the files.
check_lint_rules_bite() {
	local out rc bad=0 module=github.com/mfagate/mfagate
	[ -n "$GOLANGCI_LINT" ] || { echo "FAIL: golangci-lint $GOLANGCI_LINT_VERSION is not installed (see the stage above)"; return 1; }
	LINT_PROBES=(internal/signin/zz_layer_probe.go internal/securityinfo/zz_layer_probe.go)
	printf '%s\n' "// Throwaway: scripts/test.sh checks that depguard refuses this import." \
		'package signin' '' "import _ \"$module/internal/store\"" >"${LINT_PROBES[0]}"
	printf '%s\n' "// Throwaway: scripts/test.sh checks that depguard refuses this import." \
		'package securityinfo' '' "import _ \"$module/internal/signin\"" >"${LINT_PROBES[1]}"
	set +e
	out="$("$GOLANGCI_LINT" run ./internal/signin/ ./internal/securityinfo/ 2>&1)"
	rc=$?
	set -e
	rm -f "${LINT_PROBES[@]}"
	LINT_PROBES=()
	echo "$out"
	if [ "$rc" -eq 0 ]; then
		echo "FAIL: golangci-lint passed a page package importing the store and a page importing another page"
		return 1
	fi
	grep -qE "internal/signin/zz_layer_probe\.go:.*$module/internal/store.*\(depguard\)" <<<"$out" ||
		{ echo "FAIL: depguard did not refuse internal/signin importing internal/store"; bad=1; }
	grep -qE "internal/securityinfo/zz_layer_probe\.go:.*$module/internal/signin.*\(depguard\)" <<<"$out" ||
		{ echo "FAIL: depguard did not refuse internal/securityinfo importing internal/signin"; bad=1; }
	[ "$bad" -eq 0 ] || return 1
	echo "depguard refused both throwaway imports (the files are removed again)"
}

# The xcaddy that check_xcaddy installs (the one in the caddy:2.11-builder image).
XCADDY_VERSION=v0.4.5

# check_dockerfile CADDY_VERSION: examples/docker/Dockerfile cannot be built
# here (no image registry), so this checks what can be: it builds the Caddy
# version of go.mod, with mfagate, on official images of the same minor.
check_dockerfile() {
	local want="$1" file=examples/docker/Dockerfile minor tag tags=0 bad=0
	minor="${want#v}"
	minor="${minor%.*}"
	[ -f "$file" ] || { echo "FAIL: $file is missing"; return 1; }
	if ! grep -qE "^RUN xcaddy build ${want//./\\.}([[:space:]]|\$)" "$file"; then
		echo "FAIL: $file does not run 'xcaddy build $want' (the Caddy version in go.mod)"
		bad=1
	fi
	grep -qE -- '--with github\.com/mfagate/mfagate([[:space:]]|$)' "$file" ||
		{ echo "FAIL: $file does not build --with github.com/mfagate/mfagate"; bad=1; }
	while read -r tag; do
		tags=$((tags + 1))
		case "$tag" in
		"$minor" | "$minor"-* | "$minor".*) ;;
		*) echo "FAIL: $file uses caddy:$tag, not a caddy $minor image"; bad=1 ;;
		esac
	done < <(sed -nE 's/^FROM[[:space:]]+caddy:([^[:space:]]+).*/\1/p' "$file")
	[ "$tags" -eq 2 ] || { echo "FAIL: $file should have two FROM caddy:$minor… stages (builder, runtime), has $tags"; bad=1; }
	[ "$bad" -eq 0 ] || return 1
	echo "$file: xcaddy build $want --with github.com/mfagate/mfagate on caddy:$minor images (not built here)"
}

# check_xcaddy: builds Caddy the way its users add a plugin, with xcaddy
# (installed from the module proxy) and this checkout as a local replacement
# of github.com/mfagate/mfagate, pinned to the Caddy version in go.mod, and
# checks that the binary has our modules and the `caddy mfa` command.
check_xcaddy() {
	local caddy_version bin with id want_ids=() missing_ids=()
	XCADDY_TMP="$(mktemp -d "${TMPDIR:-/tmp}/mfagate-xcaddy.XXXXXX")" || return 1
	mkdir -p "$XCADDY_TMP/bin" "$XCADDY_TMP/tmp"
	bin="$XCADDY_TMP/caddy"

	caddy_version="$(go list -m -f '{{.Version}}' github.com/caddyserver/caddy/v2)" || return 1
	echo "xcaddy $XCADDY_VERSION, Caddy $caddy_version (as in go.mod)"
	check_dockerfile "$caddy_version" || return 1
	if ! GOBIN="$XCADDY_TMP/bin" go install "github.com/caddyserver/xcaddy/cmd/xcaddy@$XCADDY_VERSION" >"$XCADDY_TMP/install.log" 2>&1; then
		cat "$XCADDY_TMP/install.log"
		echo "FAIL: could not install xcaddy $XCADDY_VERSION"
		return 1
	fi

	# The @v0.0.0-00010101000000-000000000000 is the version Go itself gives
	# a module known only by a local replacement: with it, `go get` takes the
	# module from this checkout and never asks the module proxy for it (which
	# may answer an error, not "not found", for an unpublished module). Its
	# temporary build module goes under XCADDY_TMP too (TMPDIR).
	with="github.com/mfagate/mfagate@v0.0.0-00010101000000-000000000000=."
	echo "xcaddy build $caddy_version --with $with (this checkout)"
	if ! TMPDIR="$XCADDY_TMP/tmp" "$XCADDY_TMP/bin/xcaddy" build "$caddy_version" \
		--with "$with" --output "$bin" >"$XCADDY_TMP/build.log" 2>&1; then
		cat "$XCADDY_TMP/build.log"
		echo "FAIL: xcaddy build failed (its output is above)"
		return 1
	fi
	grep -E '\[(INFO|WARNING|ERROR)\] (exec|Build complete)' "$XCADDY_TMP/build.log" || true
	"$bin" version

	# Required: the app and the handler, every module ID that caddymodule
	# declares, and the storage modules once the source has them.
	mapfile -t want_ids < <(
		{
			printf '%s\n' mfa http.handlers.mfa_gateway
			grep -rhoE --include='*.go' --exclude='*_test.go' '\bID:[[:space:]]*"[^"]+"' caddymodule |
				sed -E 's/.*"([^"]+)"/\1/'
			for id in mfa.storage.sqlite mfa.storage.postgres; do
				if grep -rqF --include='*.go' --exclude='*_test.go' "\"$id\"" caddymodule; then
					echo "$id"
				fi
			done
		} | sort -u
	)

	echo "caddy list-modules --packages --skip-standard:"
	if ! "$bin" list-modules --packages --skip-standard >"$XCADDY_TMP/modules.txt" 2>&1; then
		cat "$XCADDY_TMP/modules.txt"
		echo "FAIL: caddy list-modules failed"
		return 1
	fi
	sed 's/^/    /' "$XCADDY_TMP/modules.txt"
	for id in "${want_ids[@]}"; do
		awk -v id="$id" '$1 == id { found = 1 } END { exit !found }' "$XCADDY_TMP/modules.txt" ||
			missing_ids+=("$id")
	done
	if [ "${#missing_ids[@]}" -gt 0 ]; then
		echo "FAIL: the xcaddy-built Caddy lacks: ${missing_ids[*]} (wanted: ${want_ids[*]})"
		return 1
	fi
	echo "all wanted modules present: ${want_ids[*]}"

	if ! "$bin" mfa --help >"$XCADDY_TMP/mfa-help.txt" 2>&1; then
		cat "$XCADDY_TMP/mfa-help.txt"
		echo "FAIL: caddy mfa --help failed"
		return 1
	fi
	if ! "$bin" adapt --config Caddyfile.example >/dev/null 2>"$XCADDY_TMP/adapt.txt"; then
		cat "$XCADDY_TMP/adapt.txt"
		echo "FAIL: caddy adapt --config Caddyfile.example failed"
		return 1
	fi
	echo "caddy mfa --help and caddy adapt --config Caddyfile.example work"
}

# fuzz_target NAME PKG: fuzzes one target for $FUZZTIME. Go's fuzz coordinator
# sometimes ends a run with "context deadline exceeded" when the time is up
# while a worker is busy, without any failing input; such a run is repeated
# (twice at most). A real finding ("Failing input written to ...") never is.
fuzz_target() {
	local name="$1" pkg="$2" attempt out rc
	for attempt in 1 2 3; do
		out="$LOGDIR/fuzz-$name-$attempt.log"
		set +e
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		set -e
		if [ "$rc" -eq 0 ]; then return 0; fi
		if grep -q 'Failing input written to' "$out" || ! grep -q 'context deadline exceeded' "$out"; then
			return "$rc"
		fi
		echo "fuzz $name: the Go fuzz coordinator timed out without a finding; running it again ($attempt of 3)"
	done
	return "$rc"
}

run_fuzz() {
	local file pkg name found=0
	while IFS= read -r file; do
		pkg="./$(dirname "${file#./}")"
		# shellcheck disable=SC2013 # names are single words
		for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file"); do
			found=1
			stage "fuzz $name ($pkg, $FUZZTIME)" fuzz_target "$name" "$pkg"
		done
	done < <(grep -rl --include='*_test.go' 'func Fuzz' . | grep -v '^./.git/' | sort)
	[ "$found" -eq 1 ] || echo "no fuzz targets found"
}

stage "gofmt" check_gofmt
stage "go vet ./..." go vet ./...
stage "install golangci-lint $GOLANGCI_LINT_VERSION" install_golangci_lint
stage "golangci-lint run ./..." check_lint
stage "golangci-lint: the layer rules bite" check_lint_rules_bite
stage "go test ./..." run_tests
stage "xcaddy build --with github.com/mfagate/mfagate" check_xcaddy
run_fuzz

# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------

passed=$(grep -cE '^[[:space:]]*--- PASS' "$TEST_LOG" || true)
failed=$(grep -cE '^[[:space:]]*--- FAIL' "$TEST_LOG" || true)
skipped=$(grep -cE '^[[:space:]]*--- SKIP' "$TEST_LOG" || true)

say "Summary ($(($(date +%s) - START_TIME))s in all)"
for r in "${RESULTS[@]}"; do echo "  $r"; done
if [ "$skipped" -gt 0 ]; then
	echo
	echo "Skipped tests:"
	grep -E '^[[:space:]]*--- SKIP' "$TEST_LOG" | sed 's/^/  /'
fi
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failed tests:"
	grep -E '^[[:space:]]*--- FAIL' "$TEST_LOG" | sed 's/^/  /'
fi
echo
if [ "$FAILED" -gt 0 ]; then
	echo "FAILED: $FAILED of ${#RESULTS[@]} checks failed"
else
	echo "OK: all ${#RESULTS[@]} checks passed"
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$FAILED" -eq 0 ]
