// The six-term chart (Chart.js, tree-shaken to the line chart it draws). A canvas is not
// readable by a screen reader, so the chart is marked as an image with a summary, and the
// same figures are always in the table beside it.
import { useEffect, useRef } from 'preact/hooks';
import { CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const COLOURS = ['#1d4f91', '#b35900', '#2e7d32'];

export function TermChart({ labels, series }: { labels: string[]; series: { label: string; values: number[] }[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: 'line',
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          borderColor: COLOURS[i % COLOURS.length],
          backgroundColor: COLOURS[i % COLOURS.length],
          tension: 0.2,
        })),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } },
    });
    return () => chart.destroy();
  }, [JSON.stringify(labels), JSON.stringify(series)]);
  const summary = series
    .map((s) => `${s.label}: ${s.values.join(', ')}`)
    .join('; ');
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={`Chart of the last six terms. ${summary}`} />
    </div>
  );
}
