#!/usr/bin/env bash
# Renders the job summary of `npm run demo` to docs/job-summary.png for the README, styled
# roughly as GitHub shows summaries, and writes its sections and columns to docs/job-summary.json:
# __tests__/project/summary-screenshot.test.ts fails when today's summary no longer has them, so
# run this again (after `npm run bundle`: the demo runs dist/) whenever the summary changes.
# Needs Chromium and an emoji font (Debian: apt-get install chromium fonts-noto-color-emoji).
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
  --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1100,880 \
  --screenshot="$PWD/docs/job-summary.png" "file://$page" 2>/dev/null
node --import tsx scripts/summary-headings.ts "$summary" > docs/job-summary.json
npx prettier --log-level warn --write docs/job-summary.json
rm -f "$page"
echo "Wrote docs/job-summary.png and docs/job-summary.json from $summary"
