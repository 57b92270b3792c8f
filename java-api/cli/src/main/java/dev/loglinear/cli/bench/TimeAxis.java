package dev.loglinear.cli.bench;

import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;

/** The time axis of the bench charts: milliseconds on a log scale, one label per decade. */
final class TimeAxis {
    private TimeAxis() {
    }

    /** Down to {@code smallestMs}, labels with as many decimals as {@code format} ("0.###") has. */
    static LogAxis milliseconds(double smallestMs, String format) {
        LogAxis y = new LogAxis("time (ms, median)");
        y.setBase(10);
        y.setTickUnit(new NumberTickUnit(1));
        y.setMinorTickCount(9);
        y.setMinorTickMarksVisible(true);
        y.setNumberFormatOverride(new java.text.DecimalFormat(format));
        y.setSmallestValue(smallestMs);
        return y;
    }
}
