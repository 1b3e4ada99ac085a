// The admin panel's small client: live updates over server-sent events, and a
// confirmation before destructive actions. Everything works without it (plain
// forms, reload to refresh).
(() => {
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.getAttribute('data-confirm') ?? 'Are you sure?')) event.preventDefault();
    });
  }

  const debounce = (fn, ms) => {
    let timer;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  };

  // The jobs list: fetch the table body again when any job changes.
  const table = document.querySelector('table[data-live]');
  if (table) {
    const refresh = debounce(async () => {
      const response = await fetch(`${table.getAttribute('data-live')}${window.location.search}`, { headers: { accept: 'text/html' } });
      if (!response.ok) return;
      const holder = document.createElement('table');
      holder.innerHTML = await response.text();
      const body = holder.querySelector('tbody');
      const current = table.querySelector('tbody');
      if (body && current) {
        current.replaceWith(body);
        const count = document.getElementById('job-count');
        if (count) count.textContent = body.getAttribute('data-total') ?? count.textContent;
      }
    }, 300);
    new EventSource('/admin/events').addEventListener('job', refresh);
  }

  // One job: fetch the page again and swap the parts that changed; keep a form someone is filling in.
  const head = document.querySelector('[data-live][data-seq]');
  if (head) {
    const url = head.getAttribute('data-live');
    const refresh = debounce(async () => {
      const response = await fetch(url, { headers: { accept: 'text/html' } });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), 'text/html');
      for (const part of document.querySelectorAll('[data-part]')) {
        const name = part.getAttribute('data-part');
        const fresh = next.querySelector(`[data-part="${name}"]`);
        if (!fresh) continue;
        const busy = [...part.querySelectorAll('input:not([type=hidden]), textarea')].some((f) => f.value !== '' || f === document.activeElement);
        if (!busy) part.replaceWith(fresh);
      }
      for (const form of document.querySelectorAll('form[data-confirm]')) {
        if (form.dataset.bound) continue;
        form.dataset.bound = '1';
        form.addEventListener('submit', (event) => {
          if (!window.confirm(form.getAttribute('data-confirm') ?? 'Are you sure?')) event.preventDefault();
        });
      }
    }, 200);
    new EventSource(`${url}/events`).addEventListener('job', refresh);
  }
})();
