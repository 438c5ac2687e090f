#!/usr/bin/env bash
# Materialise every app listed in apps.toml (next to this script) at its pinned commit.
#
#   usage: prepare.sh [DEST]            (default DEST: <this dir>/apps)
#   env:   MIRROR_DIR  directory holding bare mirrors named <owner>+<name>/repo (or <owner>+<name>/repo/.git,
#                      or <owner>+<name>.git); without it, each app is cloned from GitHub
#          APPS        optional space-separated subset of app names to prepare
#
# For each app:
#   * if a local mirror exists: `git archive <commit> | tar -x` into DEST/<app>/. Mirrors made by the
#     search tool's `fetch` lack blobs of 4 MiB and more (and LFS content); if the full archive fails for
#     that reason, the tree is archived again without the missing paths, which are listed in
#     DEST/<app>/.missing_blobs (none of them is a .py file we label).
#   * otherwise (normal GitHub access): `git clone --filter=blob:none https://github.com/<repo> DEST/<app>`
#     then `git -C DEST/<app> checkout <commit>`.
# The script contains no application code; it only reads repo/commit pairs from apps.toml.
# Never commit what it materialises: those are other projects' sources.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${1:-$here/apps}
mirror_dir=${MIRROR_DIR:-}
toml=$here/apps.toml
mkdir -p "$dest"

py=python3
for cand in python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import tomllib' 2>/dev/null; then py=$cand; break; fi
done

"$py" - "$toml" <<'EOF' >"$dest/.apps.list"
import sys, tomllib
for name, cfg in tomllib.load(open(sys.argv[1], "rb"))["apps"].items():
    print(name, cfg["repo"], cfg["commit"])
EOF

find_gitdir() { # $1 = owner/name
  [[ -n $mirror_dir ]] || return 1
  local base=$mirror_dir/${1/\//+}
  for d in "$base/repo/.git" "$base/repo" "$base.git" "$base"; do
    if [[ -d $d ]] && git --git-dir="$d" rev-parse --git-dir >/dev/null 2>&1; then echo "$d"; return 0; fi
  done
  return 1
}

archive_from_mirror() { # gitdir commit out
  local g=$1 c=$2 out=$3
  if git --git-dir="$g" archive "$c" 2>/dev/null | tar -x -C "$out" 2>/dev/null; then
    return 0
  fi
  echo "  full archive failed (blobs missing from the snapshot); archiving without them" >&2
  rm -rf "$out"; mkdir -p "$out"
  # list blobs of the commit that the object store does not have
  git --git-dir="$g" ls-tree -r -z "$c" \
    | "$py" -c '
import sys, subprocess
g = sys.argv[1]
entries = [e for e in sys.stdin.buffer.read().split(b"\0") if e]
blobs = []
for e in entries:
    meta, path = e.split(b"\t", 1)
    mode, typ, sha = meta.split()
    if typ == b"blob":
        blobs.append((sha, path))
p = subprocess.run(["git", "--git-dir", g, "cat-file", "--batch-check"], input=b"".join(s + b"\n" for s, _ in blobs), capture_output=True)
missing = [path for (s, path), line in zip(blobs, p.stdout.splitlines()) if line.endswith(b"missing")]
sys.stdout.buffer.write(b"\0".join(missing))
' "$g" >"$out/.missing_blobs.z"
  local args=()
  while IFS= read -r -d '' p; do args+=(":(exclude,literal)$p"); done < <(cat "$out/.missing_blobs.z"; printf '\0')
  # (git may still print "invalid object" for the excluded paths; the exit status is what counts)
  git --git-dir="$g" archive "$c" -- . "${args[@]}" 2>/dev/null | tar -x -C "$out"
  tr '\0' '\n' <"$out/.missing_blobs.z" >"$out/.missing_blobs"; rm -f "$out/.missing_blobs.z"
}

while read -r app repo commit; do
  if [[ -n ${APPS:-} && " $APPS " != *" $app "* ]]; then continue; fi
  out=$dest/$app
  echo "== $app ($repo @ $commit)"
  if gitdir=$(find_gitdir "$repo"); then
    if ! git --git-dir="$gitdir" cat-file -e "$commit^{commit}" 2>/dev/null; then
      echo "  commit $commit not in mirror $gitdir" >&2; exit 1
    fi
    rm -rf "$out"; mkdir -p "$out"
    archive_from_mirror "$gitdir" "$commit" "$out"
    echo "$commit" >"$out/.commit"
  else
    rm -rf "$out"
    git clone --filter=blob:none "https://github.com/$repo" "$out"
    git -C "$out" checkout --quiet "$commit"
    echo "$commit" >"$out/.commit"
  fi
done <"$dest/.apps.list"
echo "done: $dest"
