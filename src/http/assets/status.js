// Live progress for the customer: the server sends the new progress section whenever it changes.
(() => {
  const main = document.getElementById('main');
  const url = main?.getAttribute('data-events');
  if (!url) return;
  const source = new EventSource(url);
  source.addEventListener('progress', (event) => {
    const holder = document.createElement('div');
    holder.innerHTML = event.data;
    const fresh = holder.firstElementChild;
    const current = document.getElementById('progress');
    if (fresh && current) current.replaceWith(fresh);
  });
  source.addEventListener('gone', () => source.close());
})();
