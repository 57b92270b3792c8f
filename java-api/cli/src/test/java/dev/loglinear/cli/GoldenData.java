package dev.loglinear.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Where the tests find the golden cases: system property lla.golden (set by the pom). */
public final class GoldenData {
    private GoldenData() {
    }

    public static Path root() {
        String dir = System.getProperty("lla.golden");
        if (dir == null) {
            throw new IllegalStateException("system property lla.golden is not set (the pom sets it to tests/data/golden)");
        }
        Path root = Path.of(dir);
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("lla.golden=" + root + " is not a folder");
        }
        return root;
    }

    /** Folders of the cases whose name starts with {@code prefix} ("m2_", "gdn_"), sorted. */
    public static List<Path> cases(String prefix) {
        try (Stream<Path> s = Files.list(root())) {
            List<Path> found = s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .filter(p -> Files.isRegularFile(p.resolve("case.json")))
                    .sorted()
                    .toList();
            if (found.isEmpty()) {
                throw new IllegalStateException("no golden case named " + prefix + "* in " + root());
            }
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
