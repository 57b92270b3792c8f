package dev.loglinear.cli.bench;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Bars of time per anchor shape, one bar per (engine, operation), on a logarithmic axis so that
 * the CPU and a GPU fit one chart; drawn with JFreeChart and saved as PNG (works headless).
 */
public final class AnchorChart {
    private static final Color[] PALETTE = {
        new Color(0x9ecae1), new Color(0x1f77b4), new Color(0xfdae6b), new Color(0xd62728)};

    private final String title;
    private final String subtitle;
    private final DefaultCategoryDataset data = new DefaultCategoryDataset();

    public AnchorChart(String title, String subtitle) {
        this.title = title;
        this.subtitle = subtitle;
    }

    /** The results of one engine ({@code "cpu"}, {@code "cuda:0"}): its forward and forward+backward bars. */
    public void add(String engine, AnchorBench.Result r) {
        data.addValue(r.forwardMs(), engine + " forward", r.anchor().label());
        data.addValue(r.forwardBackwardMs(), engine + " forward+backward", r.anchor().label());
    }

    public void writePng(Path file, int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        LogAxis y = TimeAxis.milliseconds(1e-3, "0.###");
        BarRenderer bars = new BarRenderer();
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        bars.setBase(1e-3);            // a log axis has no zero: bars start below the smallest time
        bars.setIncludeBaseInRange(false);
        for (int i = 0; i < data.getRowCount(); i++) {
            bars.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
        CategoryPlot plot = new CategoryPlot(data, new CategoryAxis("B x T (bf16, H=32, K=128, V=64)"), y, bars);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xdddddd));

        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, true);
        chart.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, width, height);
    }
}
