#!/bin/sh
# Tokenizer throughput against Hugging Face tokenizers (Rust, via its Node binding) on a corpus
# of >= 10 MB built from the golden corpus lines. Needs node/npm (the npm registry) and the
# built bench_tokenizer. Not part of CI.
set -eu
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FIX="${MPA_FIXTURES_DIR:-$ROOT/../shared/fixtures}/qwen2-tokenizer"
WORK="$ROOT/build/bench-tokenizer"
mkdir -p "$WORK"
if [ ! -d "$WORK/node_modules/@anush008/tokenizers" ]; then
  (cd "$WORK" && npm install --silent --no-audit --no-fund @anush008/tokenizers >/dev/null)
fi
cp "$ROOT/tests/bench/tokenizer_reference.mjs" "$WORK/"
# Corpus: every golden encode text (newlines escaped, one per line), repeated with the words of
# each line rotated so repetitions are not identical lines, until 10 MB.
python3 - "$FIX" "$WORK/corpus.txt" <<'PY'
import json, sys, glob
texts = []
for f in sorted(glob.glob(sys.argv[1] + '/encode*.golden.jsonl')):
    texts += [json.loads(l)['text'] for l in open(f, encoding='utf-8')]
out, size, r = [], 0, 0
while size < 10_500_000:
    for t in texts:
        w = t.split(' ')
        k = r % max(1, len(w))
        line = ' '.join(w[k:] + w[:k]).replace('\n', '\\n')
        out.append(line); size += len(line.encode('utf-8')) + 1
    r += 1
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(out) + '\n')
PY
"$ROOT/build/tests/bench/bench_tokenizer" "$FIX" "$WORK/corpus.txt"
(cd "$WORK" && node tokenizer_reference.mjs "$FIX/tokenizer.json" corpus.txt)
