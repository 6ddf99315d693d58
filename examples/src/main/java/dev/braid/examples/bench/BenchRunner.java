package dev.braid.examples.bench;

import dev.braid.examples.BraidCli;
import dev.braid.examples.soak.Specs;
import dev.braid.examples.soak.UsageException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the perf module's JMH jar (building it when missing), then turns JMH's JSON into a
 * markdown table and, on request, PNG charts: throughput against a {@code cards} parameter,
 * the failover stall distribution of benchmarks named *stall* or *failover*, and all scores.
 */
public final class BenchRunner
{
    private final PrintWriter out;
    private final PrintWriter err;

    /** One JMH result row. */
    public record Row(String benchmark, String mode, Map<String, String> params, double score, double error, String unit,
        Map<String, Double> percentiles)
    {
    }

    public BenchRunner(final PrintWriter out, final PrintWriter err)
    {
        this.out = out;
        this.err = err;
    }

    public int run(final List<String> patterns, final Path md, final Path jsonOption, final Path fromJson,
        final Path chartDir, final boolean quick, final String jmhArgs) throws IOException, InterruptedException
    {
        Specs.outputFile("--out", md);
        if (chartDir != null && Files.exists(chartDir) && !Files.isDirectory(chartDir))
        {
            throw new UsageException("--chart must be a directory: " + chartDir);
        }
        final Path json;
        if (fromJson != null)
        {
            if (!Files.isRegularFile(fromJson))
            {
                throw new UsageException("--from-json: no such file: " + fromJson);
            }
            json = fromJson;
        }
        else
        {
            json = jsonOption != null ? jsonOption : Path.of(stripExtension(md.toString()) + ".json");
            Specs.outputFile("--json", json);
            final Path home = home();
            final Path jar = home.resolve("perf/target/benchmarks.jar");
            if (!Files.isRegularFile(jar))
            {
                out.println("bench: building " + jar + " ...");
                out.flush();
                final int rc = exec(home, List.of(home.resolve("mvnw").toString(), "-q", "-pl", "perf", "-am",
                    "package", "-DskipTests"));
                if (rc != 0 || !Files.isRegularFile(jar))
                {
                    err.println("braid: bench: building the perf module failed (exit " + rc + ")");
                    return BraidCli.INVARIANT_BROKEN;
                }
            }
            final List<String> cmd = new ArrayList<>(List.of(javaBin(), "--add-exports",
                "java.base/jdk.internal.misc=ALL-UNNAMED", "-jar", jar.toString()));
            cmd.addAll(patterns);
            if (quick)
            {
                cmd.addAll(List.of("-f", "1", "-wi", "1", "-i", "1", "-w", "1s", "-r", "1s"));
            }
            if (jmhArgs != null && !jmhArgs.isBlank())
            {
                cmd.addAll(List.of(jmhArgs.trim().split("\\s+")));
            }
            cmd.addAll(List.of("-rf", "json", "-rff", json.toAbsolutePath().toString()));
            final int rc = exec(home, cmd);
            if (rc != 0)
            {
                err.println("braid: bench: JMH exited with " + rc);
                return BraidCli.INVARIANT_BROKEN;
            }
        }
        final List<Row> rows = parse(Files.readString(json));
        Files.writeString(md, markdown(rows, json));
        out.println("bench: " + rows.size() + " results -> " + md);
        if (chartDir != null)
        {
            Files.createDirectories(chartDir);
            for (final String written : charts(rows, chartDir))
            {
                out.println("bench: chart " + written);
            }
        }
        return BraidCli.OK;
    }

    private static String stripExtension(final String name)
    {
        final int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** The repository root: -Dbraid.home (set by ./braid), else the nearest parent holding mvnw and perf/. */
    static Path home()
    {
        final String prop = System.getProperty("braid.home");
        if (prop != null)
        {
            return Path.of(prop);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null)
        {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("perf")))
            {
                return p;
            }
            p = p.getParent();
        }
        throw new UsageException("bench: cannot find the repository root (run from the checkout, or via ./braid)");
    }

    private static String javaBin()
    {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int exec(final Path dir, final List<String> cmd) throws IOException, InterruptedException
    {
        final Process p = new ProcessBuilder(cmd).directory(dir.toFile()).inheritIO().start();
        return p.waitFor();
    }

    @SuppressWarnings("unchecked")
    public static List<Row> parse(final String json)
    {
        final List<Row> rows = new ArrayList<>();
        for (final Object o : (List<Object>)MiniJson.parse(json))
        {
            final Map<String, Object> r = (Map<String, Object>)o;
            final Map<String, Object> metric = (Map<String, Object>)r.get("primaryMetric");
            final Map<String, String> params = new TreeMap<>();
            if (r.get("params") instanceof Map)
            {
                ((Map<String, Object>)r.get("params")).forEach((k, v) -> params.put(k, String.valueOf(v)));
            }
            final Map<String, Double> percentiles = new TreeMap<>();
            if (metric.get("scorePercentiles") instanceof Map)
            {
                ((Map<String, Object>)metric.get("scorePercentiles")).forEach((k, v) ->
                    percentiles.put(k, v instanceof Double ? (Double)v : Double.NaN));
            }
            rows.add(new Row((String)r.get("benchmark"), (String)r.get("mode"), params, number(metric.get("score")),
                number(metric.get("scoreError")), (String)metric.get("scoreUnit"), percentiles));
        }
        return rows;
    }

    private static double number(final Object o)
    {
        return o instanceof Double ? (Double)o : Double.NaN;
    }

    public static String markdown(final List<Row> rows, final Path source)
    {
        final StringBuilder sb = new StringBuilder("# Benchmark results\n\nFrom `" + source.getFileName() +
            "` (JMH).\n\n| benchmark | params | mode | score | error | unit |\n|---|---|---|---:|---:|---|\n");
        for (final Row r : rows)
        {
            final String name = r.benchmark().substring(r.benchmark().lastIndexOf('.', r.benchmark().lastIndexOf('.') - 1) + 1);
            final StringBuilder params = new StringBuilder();
            r.params().forEach((k, v) -> params.append(params.length() == 0 ? "" : ", ").append(k).append('=').append(v));
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %s | %s |%n", name, params, r.mode(), r.score(),
                Double.isNaN(r.error()) ? "-" : String.format(Locale.ROOT, "± %.3f", r.error()), r.unit()));
        }
        return sb.toString();
    }

    /** Writes the charts the results allow; returns the files written. */
    public static List<String> charts(final List<Row> rows, final Path dir) throws IOException
    {
        System.setProperty("java.awt.headless", "true");
        final List<String> written = new ArrayList<>();
        // Throughput against the number of cards, one series per benchmark.
        final Map<String, TreeMap<Integer, Double>> byCards = new TreeMap<>();
        for (final Row r : rows)
        {
            final String cards = r.params().get("cards");
            if (cards != null && r.mode().equals("thrpt"))
            {
                byCards.computeIfAbsent(shortName(r), k -> new TreeMap<>()).put(Integer.parseInt(cards), r.score());
            }
        }
        if (!byCards.isEmpty())
        {
            final XYChart chart = new XYChartBuilder().width(900).height(500).title("throughput vs cards")
                .xAxisTitle("cards").yAxisTitle(unitOf(rows, "thrpt")).build();
            byCards.forEach((name, points) -> chart.addSeries(name, new ArrayList<>(points.keySet()),
                new ArrayList<>(points.values())));
            written.add(save(chart, dir.resolve("throughput-vs-cards.png")));
        }
        // Failover stall distribution: sample-mode percentiles of *stall* / *failover* benchmarks.
        for (final Row r : rows)
        {
            final String lower = r.benchmark().toLowerCase(Locale.ROOT);
            if ((lower.contains("stall") || lower.contains("failover")) && !r.percentiles().isEmpty())
            {
                final CategoryChart chart = new CategoryChartBuilder().width(900).height(500)
                    .title("failover stall distribution: " + shortName(r)).xAxisTitle("percentile")
                    .yAxisTitle(r.unit()).build();
                chart.addSeries("stall", new ArrayList<>(r.percentiles().keySet()), new ArrayList<>(r.percentiles().values()));
                written.add(save(chart, dir.resolve("stall-" + shortName(r).replaceAll("[^A-Za-z0-9]+", "-") + ".png")));
            }
        }
        // Every score, so that a run always yields a picture.
        if (!rows.isEmpty())
        {
            final CategoryChart chart = new CategoryChartBuilder().width(1100).height(550).title("JMH scores")
                .xAxisTitle("benchmark").yAxisTitle(rows.get(0).unit()).build();
            chart.getStyler().setXAxisLabelRotation(30);
            chart.getStyler().setLegendVisible(false);
            final List<String> names = new ArrayList<>();
            final List<Double> scores = new ArrayList<>();
            for (final Row r : rows)
            {
                if (r.unit().equals(rows.get(0).unit()))
                {
                    final StringBuilder label = new StringBuilder(shortName(r));
                    r.params().forEach((k, v) -> label.append(' ').append(v));
                    names.add(label.toString());
                    scores.add(r.score());
                }
            }
            chart.addSeries("score", names, scores);
            written.add(save(chart, dir.resolve("scores.png")));
        }
        return written;
    }

    private static String unitOf(final List<Row> rows, final String mode)
    {
        return rows.stream().filter(r -> r.mode().equals(mode)).map(Row::unit).findFirst().orElse("");
    }

    private static String shortName(final Row r)
    {
        final String b = r.benchmark();
        return b.substring(b.lastIndexOf('.', b.lastIndexOf('.') - 1) + 1);
    }

    private static String save(final org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, final Path png) throws IOException
    {
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return png.toString() + (png.toString().endsWith(".png") ? "" : ".png") + (File.separator.isEmpty() ? "" : "");
    }
}
