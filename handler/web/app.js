// picbed upload page: drop, paste or pick images; upload each with a
// progress bar; show the links with copy buttons; list and delete recent
// uploads. No dependencies, no inline code (the page's CSP forbids it).
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'picbed.token';
  const maxBytes = Number(document.body.dataset.maxBytes) || 32 * 1048576;
  // anonymous: the server takes uploads without a token (and lists nothing)
  const anonymous = document.body.dataset.anonymous === 'true';
  let token = '';
  try { token = localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { /* storage blocked */ }
  let cursor = '';

  // el builds an element: el('button', {class: 'x', text: 'Copy'}, child...).
  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') n.textContent = v;
      else if (k === 'class') n.className = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v);
    }
    for (const c of kids) if (c) n.append(c);
    return n;
  }

  function say(node, text, kind) {
    node.textContent = text || '';
    node.classList.toggle('error', kind === 'error');
    node.classList.toggle('ok', kind === 'ok');
  }

  // errorText is the sentence shown for a failed API call: the server's
  // JSON "message" when it sent one, else what the status means.
  function errorText(status, body) {
    try {
      const j = JSON.parse(body);
      if (j && typeof j.message === 'string' && j.message) return j.message;
    } catch (e) { /* not JSON */ }
    const byStatus = {
      0: 'The server could not be reached. Is picbed running, and are you online?',
      401: 'The token was refused. Enter it again.',
      403: 'Not allowed.',
      404: 'Not found (already deleted?).',
      413: 'The file is too large for this server.',
      415: 'That is not an image picbed accepts.',
      429: 'The server is busy. Try again in a moment.',
      502: 'The server could not fetch the image.',
      503: 'The server is busy. Try again in a moment.',
      504: 'The server took too long. Try again.',
    };
    return byStatus[status] || ('The server answered HTTP ' + status + '.');
  }

  function humanSize(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }

  function encodeKey(key) { return key.split('/').map(encodeURIComponent).join('/'); }

  // api calls picbed with the token; it resolves to {status, body} and
  // never rejects (a network failure is status 0).
  async function api(method, path) {
    try {
      const r = await fetch(path, { method, headers: { Authorization: 'Bearer ' + token } });
      return { status: r.status, body: await r.text() };
    } catch (e) {
      return { status: 0, body: '' };
    }
  }

  // copy puts text on the clipboard; falls back to a hidden textarea
  // where the async clipboard API is missing (plain http on a LAN address).
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise((resolve, reject) => {
      const t = el('textarea', { class: 'offscreen', readonly: '' });
      t.value = text;
      document.body.append(t);
      t.select();
      const ok = document.execCommand('copy');
      t.remove();
      ok ? resolve() : reject(new Error('copy refused'));
    });
  }

  function copyButton(label, text, status, caption) {
    return el('button', {
      type: 'button', class: 'small', text: caption || label, 'aria-label': 'Copy ' + label,
      onclick: () => copy(text).then(
        () => say(status, label + ' copied.', 'ok'),
        () => say(status, 'The browser refused the clipboard: select the text and copy it by hand.', 'error')),
    });
  }

  function linkRow(label, value, cls, status) {
    const input = el('input', { class: cls, readonly: '', value: value, 'aria-label': label });
    input.addEventListener('focus', () => input.select());
    return el('div', { class: 'link-row' }, el('span', { class: 'label', text: label }), input, copyButton(label, value, status, 'Copy'));
  }

  // ---- token ----
  function showLogin(msg) {
    $('app').hidden = true;
    $('signout').hidden = true;
    $('login').hidden = false;
    say($('login-msg'), msg || '', 'error');
    $('token').focus();
  }

  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
  }

  function forgetToken(msg) {
    token = '';
    try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
    showLogin(msg);
  }

  async function tryToken(t) {
    token = t;
    const r = await api('GET', '/api/images?limit=1');
    if (r.status === 401) return forgetToken(errorText(r.status, r.body));
    if (r.status !== 200) return showLogin(errorText(r.status, r.body));
    try { localStorage.setItem(TOKEN_KEY, t); } catch (e) { /* kept for this visit only */ }
    showApp();
    loadGallery(true);
  }

  // ---- uploads ----
  function uploadURL() {
    const p = new URLSearchParams();
    const w = $('opt-w').value.trim();
    if (w) p.set('w', w);
    const f = $('opt-format').value;
    if (f) p.set('format', f);
    const wm = $('opt-wm');
    if (wm && !wm.checked) p.set('watermark', '0');
    const q = p.toString();
    return '/upload' + (q ? '?' + q : '');
  }

  function uploadFiles(files) {
    const list = Array.from(files || []).filter(Boolean);
    if (!list.length) return say($('notice'), 'There was no file in that.', 'error');
    if (!token && !anonymous) return showLogin('Enter your token first.');
    say($('notice'), '');
    list.forEach(uploadOne);
  }

  // placeholder stands where an image cannot be shown (a refused file, or a
  // format this browser cannot preview): a sign, never a broken-image icon.
  function placeholder(cls, text) {
    return el('div', { class: cls + ' placeholder', 'aria-hidden': 'true', text: text });
  }

  // previewImg is an <img> that turns into a placeholder if it fails to load.
  function previewImg(attrs, cls) {
    const img = el('img', attrs);
    img.addEventListener('error', () => img.replaceWith(placeholder(cls, 'no preview')), { once: true });
    return img;
  }

  function uploadOne(file) {
    const status = el('p', { class: 'status', role: 'status', text: 'Uploading…' });
    const bar = el('progress', { max: '100', value: '0', 'aria-label': 'upload progress' });
    const preview = URL.createObjectURL(file);
    const thumb = previewImg({ class: 'thumb', alt: '', src: preview }, 'thumb');
    const body = el('div', { class: 'body' }, el('p', { class: 'name', text: file.name || 'pasted image' }), bar, status);
    const item = el('li', { class: 'upload' }, thumb, body);
    $('uploads').prepend(item);
    const fail = (msg) => {
      item.classList.add('failed');
      bar.remove();
      URL.revokeObjectURL(preview);
      item.querySelector('.thumb').replaceWith(placeholder('thumb', '✕'));
      say(status, msg, 'error');
    };
    if (file.size > maxBytes) return fail('This file is ' + humanSize(file.size) + '; the server takes up to ' + humanSize(maxBytes) + '.');

    const fd = new FormData();
    fd.append('file', file, file.name || 'pasted.png');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', uploadURL());
    if (token) xhr.setRequestHeader('Authorization', 'Bearer ' + token);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener('load', () => { bar.removeAttribute('value'); say(status, 'Processing…'); });
    xhr.addEventListener('error', () => fail(errorText(0, '')));
    xhr.addEventListener('load', () => {
      if (xhr.status === 401) forgetToken(errorText(401, xhr.responseText));
      if (xhr.status < 200 || xhr.status >= 300) return fail(errorText(xhr.status, xhr.responseText));
      let u;
      try { u = JSON.parse(xhr.responseText); } catch (e) { return fail('The server answered something that is not JSON.'); }
      URL.revokeObjectURL(preview);
      bar.remove();
      item.classList.add('done');
      const shown = item.querySelector('.thumb');
      if (shown.tagName === 'IMG') shown.src = u.thumbnail || u.url;
      const facts = u.width + '×' + u.height + ' ' + u.format + ', ' + humanSize(u.size) +
        (u.deduplicated ? ' (already uploaded)' : '');
      body.append(el('p', { class: 'facts', text: facts }),
        linkRow('URL', u.url, 'url', status),
        linkRow('Markdown', u.markdown, 'md', status),
        linkRow('HTML', u.html, 'html', status));
      copy(u.markdown).then(
        () => say(status, 'Uploaded. The Markdown is on the clipboard.', 'ok'),
        () => say(status, 'Uploaded. Press a Copy button to take the link.', 'ok'));
      addTile({ key: u.key, url: u.url, thumbnail: u.thumbnail, markdown: u.markdown, html: u.html, size: u.size,
        width: u.width, height: u.height, time: new Date().toISOString(), name: u.name }, true);
    });
    xhr.send(fd);
  }

  // ---- gallery ----
  function tile(img) {
    const status = el('p', { class: 'status' });
    const del = el('button', { type: 'button', class: 'small danger', text: 'Delete' });
    let armed = null;
    del.addEventListener('click', async () => {
      if (!armed) {
        del.textContent = 'Really delete?';
        armed = setTimeout(() => { armed = null; del.textContent = 'Delete'; }, 4000);
        return;
      }
      clearTimeout(armed);
      del.disabled = true;
      const r = await api('DELETE', '/api/images/' + encodeKey(img.key));
      if (r.status === 200 || r.status === 404) { li.remove(); return; }
      if (r.status === 401) forgetToken(errorText(401, r.body));
      del.disabled = false;
      armed = null;
      del.textContent = 'Delete';
      say(status, errorText(r.status, r.body), 'error');
    });
    const when = new Date(img.time);
    const name = img.name || img.key.split('/').pop();
    const dims = img.width && img.height ? img.width + '×' + img.height + ' · ' : '';
    const li = el('li', { class: 'tile', 'data-key': img.key },
      el('a', { href: img.url, target: '_blank', rel: 'noopener noreferrer', class: 'pic' },
        previewImg({ src: img.thumbnail || img.url, alt: name, loading: 'lazy', decoding: 'async' }, 'pic')),
      el('p', { class: 'name', title: name, text: name }),
      el('p', { class: 'meta', text: dims + humanSize(img.size) + ' · ' + when.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) }),
      el('div', { class: 'actions' }, copyButton('Markdown', img.markdown, status), copyButton('HTML', img.html, status),
        copyButton('URL', img.url, status), del),
      status);
    return li;
  }

  function addTile(img, first) {
    const g = $('gallery');
    if (g.querySelector('[data-key="' + CSS.escape(img.key) + '"]')) return;
    first ? g.prepend(tile(img)) : g.append(tile(img));
    say($('gallery-msg'), '');
  }

  let loading = false;
  async function loadGallery(reset) {
    if (loading) return;
    loading = true;
    if (reset) { cursor = ''; $('gallery').replaceChildren(); }
    const r = await api('GET', '/api/images?limit=24' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    loading = false;
    if (r.status === 401) return forgetToken(errorText(401, r.body));
    if (r.status !== 200) return say($('gallery-msg'), errorText(r.status, r.body), 'error');
    const j = JSON.parse(r.body);
    j.images.forEach((img) => addTile(img, false));
    cursor = j.next_cursor || '';
    $('more').hidden = !cursor;
    if (!$('gallery').children.length) say($('gallery-msg'), 'Nothing uploaded yet.');
  }

  // ---- wiring ----
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    if (t) tryToken(t);
  });
  $('signout').addEventListener('click', () => forgetToken(''));
  $('files').addEventListener('change', (e) => { uploadFiles(e.target.files); e.target.value = ''; });
  $('refresh').addEventListener('click', () => loadGallery(true));
  $('more').addEventListener('click', () => loadGallery(false));

  const drop = $('drop');
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('files').click(); }
  });
  document.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) drop.classList.remove('over'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer) uploadFiles(e.dataTransfer.files);
  });
  document.addEventListener('paste', (e) => {
    if ($('app').hidden || !e.clipboardData) return;
    const files = [];
    for (const it of e.clipboardData.items || []) {
      if (it.kind === 'file') { const f = it.getAsFile(); if (f) files.push(f); }
    }
    if (!files.length && e.clipboardData.files) files.push(...e.clipboardData.files);
    if (!files.length) return; // plain text: let it paste normally
    e.preventDefault();
    uploadFiles(files);
  });

  if (anonymous) { showApp(); $('signout').hidden = true; $('recent').hidden = true; } else if (token) tryToken(token); else showLogin('');
})();
