package dev.braid.examples.soak;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A PNG of a soak run: total throughput per interval, each card's share, and markers where faults
 * were injected and where the controller declared a card DOWN. Rendered headless.
 */
public final class SoakChart
{
    private SoakChart()
    {
    }

    public static void write(final SoakResult r, final Path png) throws IOException
    {
        System.setProperty("java.awt.headless", "true");
        final XYChart chart = new XYChartBuilder().width(1100).height(560)
            .title("braid soak: " + r.kind + ", " + r.config.cards + " cards " + r.config.mode + ", faults " +
                r.config.faults + (r.config.threaded ? "" : " (virtual time)"))
            .xAxisTitle("time (s)").yAxisTitle("kIOPS").build();
        final org.knowm.xchart.style.XYStyler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        chart.getStyler().setMarkerSize(9);

        final int n = r.intervalCompletions.length;
        final double step = r.intervalNanos / 1e9;
        final double toK = 1.0 / (step * 1000);
        final List<Double> xs = new ArrayList<>();
        final List<Double> total = new ArrayList<>();
        double max = 1;
        for (int i = 0; i < n; i++)
        {
            xs.add((i + 1) * step);
            total.add(r.intervalCompletions[i] * toK);
            max = Math.max(max, r.intervalCompletions[i] * toK);
        }
        if (n == 0)
        {
            xs.add(0.0);
            total.add(0.0);
        }
        final XYSeries all = chart.addSeries("total", xs, total);
        all.setMarker(SeriesMarkers.NONE);
        all.setLineColor(Color.BLACK);
        all.setLineWidth(2.2f);
        final Color[] palette = { new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194),
            new Color(127, 127, 127) };
        for (int c = 0; c < r.cards.size() && c < SoakConfig.MAX_CARDS; c++)
        {
            final List<Double> ys = new ArrayList<>();
            for (int i = 0; i < n; i++)
            {
                ys.add(r.intervalPerCard[i][c] * toK);
            }
            if (n == 0)
            {
                ys.add(0.0);
            }
            final XYSeries s = chart.addSeries(r.cards.get(c).name(), xs, ys);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(palette[c % palette.length]);
            s.setLineWidth(1.2f);
        }
        markers(chart, "fault injected", r.faults.stream().filter(f -> !f.what().equals("heal") && !f.what().equals("rejoin"))
            .mapToDouble(f -> f.atNanos() / 1e9).toArray(), max * 1.08, Color.RED, SeriesMarkers.TRIANGLE_DOWN);
        markers(chart, "heal / rejoin", r.faults.stream().filter(f -> f.what().equals("heal") || f.what().equals("rejoin"))
            .mapToDouble(f -> f.atNanos() / 1e9).toArray(), max * 1.08, new Color(0, 150, 0), SeriesMarkers.TRIANGLE_UP);
        markers(chart, "failover (card DOWN)", r.failovers.stream().mapToDouble(f -> f.downAtNanos() / 1e9).toArray(),
            max * 1.02, new Color(120, 0, 160), SeriesMarkers.DIAMOND);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void markers(
        final XYChart chart, final String name, final double[] times, final double y, final Color color,
        final org.knowm.xchart.style.markers.Marker marker)
    {
        if (times.length == 0)
        {
            return;
        }
        final double[] ys = new double[times.length];
        java.util.Arrays.fill(ys, y);
        final XYSeries s = chart.addSeries(name, times, ys);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(marker);
        s.setMarkerColor(color);
    }
}
