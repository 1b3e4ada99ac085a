// The KPI page's charts, drawn with Chart.js from the data the server embedded
// in #kpi-charts. The tables beside them hold the same figures, so the page
// says everything without this script.
(() => {
  const source = document.getElementById('kpi-charts');
  if (!source || !window.Chart) return;
  const charts = JSON.parse(source.textContent ?? '[]');
  const palette = ['#1f5fbf', '#8fb3e8', '#1e7a46', '#9fd3b3', '#b3261e', '#8a5a00'];
  const axis = (title, position, extra) => ({
    position,
    beginAtZero: true,
    title: { display: title !== '', text: title },
    ...extra,
  });
  for (const c of charts) {
    const canvas = document.querySelector(`canvas[data-chart="${CSS.escape(c.name)}"]`);
    if (!canvas) continue;
    const valueAxis = c.horizontal ? 'xAxisID' : 'yAxisID';
    const scales = {
      left: axis(c.axes.left.title, c.horizontal ? 'bottom' : 'left'),
      ...(c.axes.right ? { right: axis(c.axes.right.title, c.horizontal ? 'top' : 'right', { grid: { drawOnChartArea: false } }) } : {}),
    };
    new window.Chart(canvas, {
      type: c.type,
      data: {
        labels: c.labels,
        datasets: c.datasets.map((d, i) => ({
          label: d.label,
          data: d.data,
          [valueAxis]: d.axis,
          backgroundColor: palette[i % palette.length],
          borderColor: palette[i % palette.length],
          spanGaps: false,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: c.horizontal ? 'y' : 'x',
        scales,
        plugins: { legend: { display: c.datasets.length > 1, position: 'bottom' } },
      },
    });
    canvas.dataset.drawn = 'true';
  }
})();
