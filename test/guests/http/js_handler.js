// An HTTP handler in JavaScript, made a component by componentize-js (StarlingMonkey) during test
// setup (scripts/build-guests.mjs). Routes: /hello, /counter (per instance), /echo (the body back).
let counter = 0;

async function answer(request) {
  const path = new URL(request.url).pathname;
  counter++;
  if (path === '/counter') return new Response(`${counter}\n`);
  if (path === '/echo') return new Response(await request.text(), { headers: { 'x-handler': 'js' } });
  return new Response('hello from JS\n', { headers: { 'content-type': 'text/plain' } });
}

addEventListener('fetch', (event) => event.respondWith(answer(event.request)));
