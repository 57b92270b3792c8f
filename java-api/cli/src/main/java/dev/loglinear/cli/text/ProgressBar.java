package dev.loglinear.cli.text;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line terminal progress bar for a phase of known total work. It appears
 * only once the phase has run for a second (short phases stay quiet), redraws
 * ten times a second from a daemon thread, so the elapsed time keeps moving
 * during a long native call, and erases itself on close.
 */
public final class ProgressBar implements AutoCloseable {
    private static final long SHOW_AFTER_NANOS = 1_000_000_000L;
    private static final long REDRAW_MILLIS = 100;
    private static final int WIDTH = 30;

    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private final AtomicLong done = new AtomicLong();
    private final Thread ticker;
    private volatile boolean closed;
    private boolean drawn;

    /**
     * @param enabled false to draw nothing at all (output is not a terminal)
     */
    public ProgressBar(String label, long total, PrintStream out, boolean enabled) {
        this.label = label;
        this.total = Math.max(1, total);
        this.out = out;
        this.enabled = enabled;
        this.ticker = new Thread(this::tick, "progress-" + label);
        this.ticker.setDaemon(true);
        if (enabled) {
            ticker.start();
        }
    }

    /** Adds {@code n} units of finished work. */
    public void advance(long n) {
        done.addAndGet(n);
    }

    /** Sets the finished work to {@code n} units. */
    public void set(long n) {
        done.set(n);
    }

    private void tick() {
        while (!closed) {
            try {
                Thread.sleep(REDRAW_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (!closed && System.nanoTime() - start >= SHOW_AFTER_NANOS) {
                draw();
            }
        }
    }

    private synchronized void draw() {
        if (closed) {
            return;
        }
        double fraction = Math.min(1.0, (double) done.get() / total);
        int filled = (int) Math.round(fraction * WIDTH);
        double elapsed = (System.nanoTime() - start) / 1e9;
        String eta = fraction > 0.02 ? String.format(Locale.ROOT, "  eta %4.1f s", elapsed / fraction - elapsed) : "";
        out.printf(Locale.ROOT, "\r  %s [%s%s] %3.0f%%  %5.1f s%s ", label, "#".repeat(filled), ".".repeat(WIDTH - filled),
                100 * fraction, elapsed, eta);
        out.flush();
        drawn = true;
    }

    /** Prints {@code text} (ending with a newline) above the bar, which redraws on its next tick. */
    public synchronized void print(String text) {
        clear();
        out.print(text);
        out.flush();
    }

    private void clear() {
        if (drawn) {
            out.print("\r" + " ".repeat(label.length() + WIDTH + 40) + "\r");
            drawn = false;
        }
    }

    /** Seconds since the bar was created. */
    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            clear();
            out.flush();
        }
        ticker.interrupt();
    }
}
