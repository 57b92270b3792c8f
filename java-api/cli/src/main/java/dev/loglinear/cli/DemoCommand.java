package dev.loglinear.cli;

import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.demo.Demo;
import dev.loglinear.cli.demo.DemoSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lla demo}: one long sequence through forward, backward and decode, checked. */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Lla.Version.class,
        description = {"Run one long synthetic sequence through forward, backward and token-by-token decode, "
                + "check the results against independent references, and show timings and the state memory "
                + "as the sequence grows.",
                "Exit codes: 0 every check passed, 1 an error (usage, library error), 2 a check failed."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = {"-T", "--length"}, defaultValue = "65536", paramLabel = "T",
            description = "Tokens in the long sequence (default: ${DEFAULT-VALUE}).")
    int length;

    @Option(names = {"-H", "--heads"}, defaultValue = "4", description = "Heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = {"-G", "--groups"}, defaultValue = "1",
            description = "Query/key groups; heads must be a multiple (default: ${DEFAULT-VALUE}).")
    int groups;

    @Option(names = "--dim", defaultValue = "64", paramLabel = "D",
            description = "Key and value size per head, K = V (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f64|bf16",
            description = "Precision of the long run (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--reference-length", defaultValue = "256", paramLabel = "T",
            description = "Tokens of the check against the O(T^2) float64 formula (default: ${DEFAULT-VALUE}).")
    int referenceLength;

    @Option(names = "--seed", defaultValue = "7", description = "Random seed of the inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--progress", defaultValue = "auto", paramLabel = "auto|always|never",
            description = "Progress bars for phases over a second: auto = when output is a terminal "
                    + "(default: ${DEFAULT-VALUE}).")
    String progress;

    @Mixin
    EngineOptions engine;

    @Override
    public Integer call() {
        boolean bars = switch (progress) {
            case "always" -> true;
            case "never" -> false;
            case "auto" -> System.console() != null;
            default -> throw new IllegalArgumentException("--progress must be auto, always or never, got '" + progress + "'");
        };
        DemoSettings settings = new DemoSettings(length, heads, groups, dim, ComputeDType.parse(dtype),
                Math.min(referenceLength, length), seed, bars);
        return new Demo(settings, engine, System.out).run() ? 0 : Lla.EXIT_CHECK_FAILED;
    }
}
