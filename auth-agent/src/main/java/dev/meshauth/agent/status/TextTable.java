package dev.meshauth.agent.status;

import java.util.List;

/** Left-aligned columns separated by three spaces, like kubectl and cilium-dbg print them. */
public final class TextTable {
    private TextTable() {
    }

    /** Renders {@code rows} (the first is the header); every row must have the same number of cells. */
    public static String render(List<List<String>> rows) {
        int cols = rows.getFirst().size();
        int[] width = new int[cols];
        for (List<String> row : rows) {
            if (row.size() != cols) {
                throw new IllegalArgumentException("row has " + row.size() + " cells, header has " + cols);
            }
            for (int c = 0; c < cols; c++) {
                width[c] = Math.max(width[c], row.get(c).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> row : rows) {
            for (int c = 0; c < cols; c++) {
                String cell = row.get(c);
                sb.append(cell);
                if (c < cols - 1) {
                    sb.append(" ".repeat(width[c] - cell.length() + 3));
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
