// The reference: Hugging Face tokenizers (Rust) through its Node binding. Same corpus format
// and hash as bench_tokenizer.cpp. Usage: node tokenizer_reference.mjs TOKENIZER_JSON CORPUS
import { createRequire } from 'module';
import { readFileSync } from 'fs';
const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

const [tokPath, corpusPath] = process.argv.slice(2);
const tok = Tokenizer.fromFile(tokPath);
const data = readFileSync(corpusPath);
const lines = data.toString('utf8').split('\n').filter((l) => l.length > 0).map((l) => l.replaceAll('\\n', '\n'));
const mb = data.length / 1e6;

function fnv(all) {
  let h = 1469598103934665603n;
  const mask = (1n << 64n) - 1n;
  for (const ids of all) {
    for (const id of ids) { h ^= BigInt(id); h = (h * 1099511628211n) & mask; }
    h ^= 0xFFFFFFFFn; h = (h * 1099511628211n) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

let t = process.hrtime.bigint();
const single = [];
for (const l of lines) single.push((await tok.encode(l, null, { addSpecialTokens: false })).getIds());
const singleS = Number(process.hrtime.bigint() - t) / 1e9;

t = process.hrtime.bigint();
const batch = (await tok.encodeBatch(lines, { addSpecialTokens: false })).map((e) => e.getIds());
const batchS = Number(process.hrtime.bigint() - t) / 1e9;
console.log(`reference: ${mb.toFixed(2)} MB, ${lines.length} lines; line by line ${(mb / singleS).toFixed(2)} MB/s; ` +
            `encodeBatch ${(mb / batchS).toFixed(2)} MB/s; ids fnv ${fnv(single)}${fnv(batch) === fnv(single) ? '' : ' (BATCH MISMATCH)'}`);
