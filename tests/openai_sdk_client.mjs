// The official OpenAI Node SDK as an independent client of `mpa serve`.
// Usage: node openai_sdk_client.mjs BASE_URL IMAGE_PATH   (NODE_PATH must reach the `openai` package)
import { createRequire } from 'module';
import { readFileSync } from 'fs';
const require = createRequire(process.env.MPA_NODE_MODULES + '/');
const OpenAI = require('openai').default ?? require('openai');

const [baseURL, image] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'unused-by-mpa-serve', maxRetries: 0 });
const models = await client.models.list();
const id = models.data[0].id;
const url = 'data:image/png;base64,' + readFileSync(image).toString('base64');
const r = await client.chat.completions.create({
  model: id, max_tokens: 4, temperature: 0, logprobs: true,
  messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'What is shown?' }] }],
});
let notFound = '';
try { await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }); }
catch (e) { notFound = `${e.status}`; }
console.log(JSON.stringify({ id, object: r.object, content: r.choices[0].message.content,
  logprobs: r.choices[0].logprobs.content.length, usage: r.usage.total_tokens, notFound }));
