package dev.loglinear;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** One folder of tests/data/golden: case.json and the float64 .npy arrays (docs/golden-format.md). */
final class GoldenCase {
    private static final Pattern VARIANT = Pattern.compile("\"variant\"\\s*:\\s*\"(\\w+)\"");
    private static final Pattern SCALE = Pattern.compile("\"scale\"\\s*:\\s*([-+0-9.eE]+)");
    private static final Pattern CU_SEQLENS = Pattern.compile("\"cu_seqlens\"\\s*:\\s*(null|\\[[^\\]]*\\])");
    private static final Pattern STATE_POSITION = Pattern.compile("\"state_position\"\\s*:\\s*(\\d+)");

    final Path dir;
    final Variant variant;
    final double scale;
    final long[] cuSeqlens;
    final Long statePosition;

    private GoldenCase(Path dir) throws IOException {
        this.dir = dir;
        String json = Files.readString(dir.resolve("case.json"));
        String variantName = find(VARIANT, json, "variant");
        this.variant = switch (variantName) {
            case "m2" -> Variant.MAMBA2;
            case "gdn" -> Variant.GATED_DELTANET;
            default -> throw new IOException(dir + ": unknown variant " + variantName);
        };
        this.scale = Double.parseDouble(find(SCALE, json, "scale"));
        String cu = find(CU_SEQLENS, json, "cu_seqlens");
        this.cuSeqlens = cu.equals("null") ? null
                : Arrays.stream(cu.substring(1, cu.length() - 1).split(",")).map(String::trim)
                        .mapToLong(Long::parseLong).toArray();
        Matcher position = STATE_POSITION.matcher(json);
        this.statePosition = position.find() ? Long.parseLong(position.group(1)) : null;
    }

    /** The golden directory: -Dlla.golden.dir (set by the pom to tests/data/golden). */
    static Path root() {
        return Path.of(System.getProperty("lla.golden.dir", "../../tests/data/golden"));
    }

    /** Every case, by name; fails (does not skip) when there are none. */
    static List<GoldenCase> all() {
        try (Stream<Path> dirs = Files.list(root())) {
            List<GoldenCase> cases = dirs.filter(d -> Files.exists(d.resolve("case.json"))).sorted()
                    .map(GoldenCase::load).toList();
            if (cases.isEmpty()) {
                throw new IllegalStateException("no golden cases in " + root().toAbsolutePath());
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException("golden cases in " + root().toAbsolutePath(), e);
        }
    }

    static GoldenCase named(String name) {
        return load(root().resolve(name));
    }

    private static GoldenCase load(Path dir) {
        try {
            return new GoldenCase(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String name() {
        return dir.getFileName().toString();
    }

    boolean has(String array) {
        return Files.exists(dir.resolve(array + ".npy"));
    }

    NpyFile array(String name) {
        try {
            return NpyFile.read(dir.resolve(name + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** B, T, H, G, K, V, L from the arrays' shapes, with cu_seqlens. */
    AttentionShape shape() {
        long[] q = array("q").shape();
        long[] v = array("v").shape();
        long[] l = array("l").shape();
        AttentionShape s = AttentionShape.of(q[0], q[1], v[2], q[2], q[3], v[3], l[3]);
        return cuSeqlens == null ? s : s.withCuSeqlens(cuSeqlens);
    }

    LogLinearConfig config() {
        return LogLinearConfig.builder().variant(variant).scale(scale).backend(Backend.CPU).build();
    }

    @Override
    public String toString() {
        return name();
    }

    private static String find(Pattern pattern, String json, String key) throws IOException {
        Matcher m = pattern.matcher(json);
        if (!m.find()) {
            throw new IOException("case.json: no " + key);
        }
        return m.group(1);
    }
}
