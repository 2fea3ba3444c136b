#!/usr/bin/env bash
# Renders the job summary of `npm run demo` to docs/job-summary.png for the README, styled
# roughly as GitHub shows summaries. Needs Chromium (Debian: apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

summary=$(npm run -s demo | sed -n 's/^Job summary (HTML, as GitHub renders it on the run page): //p')
page=$(mktemp --suffix=.html)
{
  cat <<'HTML'
<!doctype html><meta charset="utf-8">
<style>
  body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328;
         margin: 0; padding: 16px 24px; background: #fff; }
  h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; margin: 0 0 16px; }
  h3 { font-size: 1.25em; margin: 24px 0 16px; }
  table { border-collapse: collapse; margin-bottom: 16px; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
  th { font-weight: 600; background: #f6f8fa; }
  tr:nth-child(2n) td { background: #f6f8fa; }
  code { font: 85% ui-monospace, monospace; background: #eff1f3; padding: .2em .4em; border-radius: 6px; }
</style>
HTML
  cat "$summary"
} > "$page"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1100,760 \
  --screenshot="$PWD/docs/job-summary.png" "file://$page" 2>/dev/null
echo "Wrote docs/job-summary.png from $summary"
