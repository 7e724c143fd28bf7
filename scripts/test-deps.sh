#!/usr/bin/env bash
# What the tests and benchmarks need from the system: espeak-ng (speech) and CJK/Latin fonts (invoice
# images) to generate inputs, Debian's Chromium for the browser tests (Playwright drives it; it never
# downloads a browser), Debian's docker-compose to validate docker-compose.yml (`config` needs no Docker
# daemon). Installed from Debian's packages when missing and we can.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ -n "${SHOPDESK_CHROMIUM:-}" ] || command -v chromium >/dev/null || missing+=(chromium)
command -v docker-compose >/dev/null || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "the tests need ${missing[*]}: install them (Debian/Ubuntu: apt-get install ${missing[*]})" >&2
  exit 1
fi
