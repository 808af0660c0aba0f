/**
 * The browser side of the report, inlined after Chart.js: reads the JSON data block and draws the three charts.
 * Plain ES2017 in a string (the page has no bundler); animation is off so screenshots are taken of final frames.
 * Sets `window.__reportReady` once every chart is drawn, for the PNG renderer and the browser tests.
 */
export const CHARTS_SCRIPT = String.raw`
(function () {
  'use strict';
  var PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
  var data = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = false;
  // Room on the right so the last epoch's marker and tick label are not cut at the canvas edge.
  Chart.defaults.layout.padding = { top: 4, right: 24, bottom: 4, left: 8 };
  // Paint a white background so the exported PNGs are not transparent.
  Chart.register({
    id: 'whiteBackground',
    beforeDraw: function (chart) {
      var context = chart.ctx;
      context.save();
      context.globalCompositeOperation = 'destination-over';
      context.fillStyle = '#ffffff';
      context.fillRect(0, 0, chart.width, chart.height);
      context.restore();
    },
  });
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

  function color(index) { return PALETTE[index % PALETTE.length]; }
  function epochLabels() {
    var longest = 0;
    data.series.forEach(function (series) { longest = Math.max(longest, series.accuracy.length); });
    var labels = [];
    for (var epoch = 0; epoch < longest; epoch += 1) labels.push(epoch === 0 ? 'initial' : String(epoch));
    return labels;
  }
  // Reverted epochs are drawn as crosses: the curve stays flat there because the candidate was thrown away.
  function pointStyles(series) {
    return [ 'circle' ].concat(series.reverted.map(function (reverted) { return reverted ? 'crossRot' : 'circle'; }));
  }
  function focusFooter(series) {
    return function (items) {
      var item = items[0];
      if (!item || item.dataIndex === 0) return 'initial prompt';
      var focus = series[item.datasetIndex].focus[item.dataIndex - 1];
      var reverted = series[item.datasetIndex].reverted[item.dataIndex - 1];
      return 'focus: ' + focus + (reverted ? ' (candidate reverted)' : '');
    };
  }
  function perEpochChart(canvasId, title, values, yTitle, yOptions) {
    return new Chart(document.getElementById(canvasId), {
      type: 'line',
      data: {
        labels: epochLabels(),
        datasets: data.series.map(function (series, index) {
          return {
            label: series.label,
            data: values(series),
            borderColor: color(index),
            backgroundColor: color(index),
            pointStyle: pointStyles(series),
            pointRadius: [4].concat(series.reverted.map(function (reverted) { return reverted ? 8 : 4; })),
            tension: 0,
          };
        }),
      },
      options: {
        plugins: {
          title: { display: true, text: title },
          tooltip: { callbacks: { footer: focusFooter(data.series) } },
        },
        scales: {
          x: { title: { display: true, text: 'epoch' } },
          y: Object.assign({ title: { display: true, text: yTitle } }, yOptions),
        },
      },
    });
  }
  function tradeoffChart() {
    return new Chart(document.getElementById('chart-tradeoff'), {
      type: 'scatter',
      data: {
        datasets: data.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.tokens.map(function (tokens, epoch) {
              return { x: tokens, y: series.accuracy[epoch] * 100 };
            }),
            showLine: true,
            borderColor: color(index),
            backgroundColor: color(index),
            // The final prompt gets the big marker: where each configuration ended on the trade-off.
            pointRadius: series.tokens.map(function (_, epoch) { return epoch === series.tokens.length - 1 ? 8 : 3; }),
          };
        }),
      },
      options: {
        plugins: {
          title: { display: true, text: 'Accuracy vs. tokens (path per configuration; large marker = final prompt)' },
          tooltip: {
            callbacks: {
              label: function (item) {
                var epoch = item.dataIndex === 0 ? 'initial' : 'epoch ' + item.dataIndex;
                return item.dataset.label + ', ' + epoch + ': ' + item.parsed.y.toFixed(1) + '% at ' +
                  item.parsed.x.toFixed(1) + ' tokens';
              },
            },
          },
        },
        scales: {
          x: { title: { display: true, text: 'mean completion tokens' } },
          y: { title: { display: true, text: 'accuracy (%)' }, min: 0, max: 100 },
        },
      },
    });
  }

  perEpochChart('chart-accuracy', 'Accuracy per epoch (× = candidate reverted)', function (series) {
    return series.accuracy.map(function (value) { return value * 100; });
  }, 'accuracy (%)', { min: 0, max: 100 });
  perEpochChart('chart-tokens', 'Mean completion tokens per epoch (× = candidate reverted)', function (series) {
    return series.tokens;
  }, 'tokens', { beginAtZero: true });
  tradeoffChart();
  window.__reportReady = true;
})();
`;
