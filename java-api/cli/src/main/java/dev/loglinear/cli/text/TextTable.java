package dev.loglinear.cli.text;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with right-aligned columns, for terminal output. */
public final class TextTable {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    private int minWidth;

    public TextTable(String... header) {
        this.header = List.of(header);
    }

    /**
     * Makes every column at least {@code width} characters wide, so that rows printed one at a
     * time as they are measured ({@link #renderLastRow}) stay aligned with the header.
     */
    public TextTable minWidth(int width) {
        this.minWidth = width;
        return this;
    }

    public TextTable row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + header.size() + " columns");
        }
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    public int rowCount() {
        return rows.size();
    }

    /** The table, each line indented by {@code indent}, ending with a newline. */
    public String render(String indent) {
        int[] width = new int[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = Math.max(minWidth, header.get(c).length());
            for (List<String> r : rows) {
                width[c] = Math.max(width[c], r.get(c).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, indent, header, width);
        StringBuilder rule = new StringBuilder();
        for (int c = 0; c < width.length; c++) {
            rule.append(c == 0 ? "" : "  ").append("-".repeat(width[c]));
        }
        sb.append(indent).append(rule).append('\n');
        for (List<String> r : rows) {
            line(sb, indent, r, width);
        }
        return sb.toString();
    }

    /** One row as a line, for printing rows as they are measured. */
    public String renderLastRow(String indent) {
        String[] lines = render(indent).split("\n");
        return lines[lines.length - 1] + "\n";
    }

    private static void line(StringBuilder sb, String indent, List<String> cells, int[] width) {
        sb.append(indent);
        for (int c = 0; c < width.length; c++) {
            String s = cells.get(c);
            sb.append(c == 0 ? "" : "  ").append(" ".repeat(width[c] - s.length())).append(s);
        }
        sb.append('\n');
    }
}
