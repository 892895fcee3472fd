#!/usr/bin/env bash
# Regenerates idv's prompts from the texts in sounds/text/<lang>.tsv, with Debian's
# espeak-ng and sox:
#
#   sounds/<lang>/idv/<name>.wav    8 kHz mono 16-bit PCM (Asterisk's "wav": slin)
#   sounds/<lang>/idv/<name>.ulaw   raw G.711 µ-law (no transcoding on ulaw channels)
#   sounds/ja/digits/<n>.wav|.ulaw  the digits 0-9 for SAY DIGITS on Japanese channels
#
# Usage: sounds/generate.sh [OUTDIR]   (default: the sounds/ directory itself)
# The output is byte-identical for the same texts and package versions: sox runs without
# dither (-D), the only random step of the chain. Replace a prompt by recording your own
# file under the same name (8 kHz mono), or by editing its text and running this again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "generate.sh: $tool is missing (apt-get install espeak-ng sox)" >&2; exit 1; }
done
declare -A voice=([en]="en-us" [ja]="ja")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# say renders one text to OUTDIR/<lang>/<dir>/<name>.wav and .ulaw.
say() {
	local v="$1" text="$2" base="$3"
	espeak-ng -v "$v" -s 150 -w "$tmp/raw.wav" "$text"
	sox -D -V1 "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$base.wav"
	sox -D -V1 "$tmp/raw.wav" -r 8000 -c 1 -t ul "$base.ulaw"
}
# <lang>.tsv makes <lang>/idv/<name>; <lang>.digits.tsv the digits SAY DIGITS plays
# (<lang>/digits/<n>), for a language whose core sounds Debian does not ship.
for texts in "$here"/text/*.tsv; do
	file="$(basename "$texts" .tsv)"
	lang="${file%.digits}"
	dir=idv
	[[ "$file" == *.digits ]] && dir=digits
	v="${voice[$lang]:-$lang}"
	mkdir -p "$out/$lang/$dir"
	while IFS=$'\t' read -r name text; do
		[[ -z "$name" || "$name" == \#* ]] && continue
		say "$v" "$text" "$out/$lang/$dir/$name"
	done < "$texts"
done
echo "prompts written under $out"
