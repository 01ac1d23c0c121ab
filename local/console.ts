/** The admin console: one page that previews, requests, approves and follows operations through the HTTP API. */
export function consolePage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>offboard console</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
fieldset{border:1px solid #ccd;border-radius:6px;margin:0 0 1rem}input,select,button{font:inherit;margin:.2rem}
pre{background:#f4f5f8;padding:1rem;border-radius:6px;overflow:auto;max-height:30rem}
</style></head><body>
<h1>offboard console</h1>
<p>Acts as the user named below (a token is issued by the embedded stack). Every action goes through the HTTP API.</p>
<fieldset><legend>Who you are</legend><label>administrator user id <input id="me" value="adminA"></label></fieldset>
<fieldset><legend>Transfer or delete a user</legend>
<label>user id <input id="user" value="a1"></label>
<label>destination organization <input id="dest" value="C"></label><br>
<button data-act="preview-transfer">Preview transfer</button><button data-act="transfer">Request transfer</button>
<button data-act="preview-deletion">Preview deletion</button><button data-act="deletion">Delete user</button>
</fieldset>
<fieldset><legend>Follow an operation</legend>
<label>id <input id="op" size="44"></label>
<button data-act="get">Show</button><button data-act="approve">Approve</button><button data-act="cancel">Cancel</button>
</fieldset>
<pre id="out">Results appear here.</pre>
<script>
const $ = (id) => document.getElementById(id);
async function call(method, path, body) {
  const t = await (await fetch('/_local/token', {method:'POST', body: JSON.stringify({userId: $('me').value})})).json();
  const r = await fetch(path, {method, headers: {authorization: 'Bearer ' + t.token, 'content-type': 'application/json'}, body: body && JSON.stringify(body)});
  const j = await r.json();
  if (j.id) $('op').value = j.id;
  $('out').textContent = r.status + '\\n' + JSON.stringify(j, null, 2);
}
const kind = () => $('op').value.startsWith('del-') ? 'deletions' : 'transfers';
const acts = {
  'preview-transfer': () => call('POST', '/previews', {operation:'transfer', userId: $('user').value, destinationOrganizationId: $('dest').value}),
  'transfer': () => call('POST', '/transfers', {userId: $('user').value, destinationOrganizationId: $('dest').value}),
  'preview-deletion': () => call('POST', '/previews', {operation:'deletion', userId: $('user').value}),
  'deletion': () => call('POST', '/deletions', {userId: $('user').value}),
  'get': () => call('GET', '/' + kind() + '/' + $('op').value),
  'approve': () => call('POST', '/transfers/' + $('op').value + '/approval'),
  'cancel': () => call('POST', '/transfers/' + $('op').value + '/cancellation'),
};
document.querySelectorAll('button').forEach((b) => b.onclick = acts[b.dataset.act]);
</script></body></html>`;
}
