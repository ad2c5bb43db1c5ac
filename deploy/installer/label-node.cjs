// Sets or removes the label hyrun/installed=true on this pod's node (NODE_NAME), through the API
// server with the pod's service account. Outside a cluster it says so and does nothing.
'use strict';
const { readFileSync } = require('node:fs');
const https = require('node:https');

const LABEL = 'hyrun/installed';
const action = process.argv[2];
const host = process.env.KUBERNETES_SERVICE_HOST;
const node = process.env.NODE_NAME;
if (!host || !node) {
  console.log(`hyrun-node-installer: not in a cluster (no KUBERNETES_SERVICE_HOST/NODE_NAME): node label ${LABEL} not ${action === 'set' ? 'set' : 'removed'}`);
  process.exit(0);
}
const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
const body = JSON.stringify({ metadata: { labels: { [LABEL]: action === 'set' ? 'true' : null } } });
const req = https.request({
  host, port: Number(process.env.KUBERNETES_SERVICE_PORT || 443), method: 'PATCH', path: `/api/v1/nodes/${encodeURIComponent(node)}`,
  ca: readFileSync(`${sa}/ca.crt`),
  headers: { Authorization: `Bearer ${readFileSync(`${sa}/token`, 'utf8').trim()}`, 'Content-Type': 'application/strategic-merge-patch+json' },
}, (res) => {
  let text = '';
  res.on('data', (d) => { text += d; });
  res.on('end', () => {
    if (res.statusCode !== 200) {
      console.error(`hyrun-node-installer: labelling node ${node} failed: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
      process.exit(1);
    }
    console.log(`hyrun-node-installer: node ${node} label ${LABEL} ${action === 'set' ? 'set' : 'removed'}`);
  });
});
req.on('error', (e) => { console.error(`hyrun-node-installer: cannot reach the API server: ${e.message}`); process.exit(1); });
req.end(body);
