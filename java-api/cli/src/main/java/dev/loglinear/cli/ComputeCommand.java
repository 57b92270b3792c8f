package dev.loglinear.cli;

import dev.loglinear.LogLinear;
import dev.loglinear.Variant;
import dev.loglinear.cli.compute.CaseRunner;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.compute.Comparison;
import dev.loglinear.cli.io.GoldenCase;
import dev.loglinear.cli.io.Npy;
import dev.loglinear.cli.io.NpyArray;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lla compute}: the golden-format in/out of the native {@code llacheck}, through the Java
 * API. Writes {@code o}, every gradient and (for a case with state_position) {@code state} as
 * float64 {@code .npy}; checks the continuation contract at state_position; with
 * {@code --compare}, also checks every output against the case's reference at SPEC tolerance.
 */
@Command(name = "compute", mixinStandardHelpOptions = true, versionProvider = Lla.Version.class,
        description = {"Run a golden-format case (case.json + .npy inputs and do) through the Java API: "
                + "forward + backward, and the state at state_position when the case has one. "
                + "Writes o, dq, dk, dv, dg, dl [dbeta] [state] as float64 .npy into --out.",
                "Exit codes: 0 ok, 1 an error (usage, bad case, library error), 2 a check failed (as llacheck)."})
public final class ComputeCommand implements Callable<Integer> {

    @Option(names = "--case", required = true, paramLabel = "DIR", description = "Case folder with case.json.")
    Path caseDir;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the .npy results (created).")
    Path outDir;

    @Option(names = "--dtype", defaultValue = "f64", paramLabel = "f64|f32|bf16",
            description = "Precision: f64, f32, or bf16 inputs (g stays float32) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--compare",
            description = "Compare every result with the case's reference .npy files (bf16: with a float64 run on the "
                    + "same bf16-rounded inputs) at SPEC tolerance.")
    boolean compare;

    @Mixin
    EngineOptions engine;

    @Override
    public Integer call() throws Exception {
        ComputeDType precision = ComputeDType.parse(dtype);
        GoldenCase c = GoldenCase.load(caseDir);
        Variant variant = c.isGatedDeltaNet() ? Variant.GATED_DELTANET : Variant.MAMBA2;
        LogLinear lla = engine.create(variant, c.scale());
        PrintStream out = System.out;
        out.printf("lla compute: case %s, dtype %s, backend %s%n", caseDir.getFileName(), precision.label(),
                engine.describe());
        Files.createDirectories(outDir);

        CaseRunner runner = new CaseRunner(lla, precision);
        Map<String, NpyArray> whole = runner.forwardBackward(c);
        for (Map.Entry<String, NpyArray> e : whole.entrySet()) {
            write(e.getKey(), e.getValue());
        }
        boolean ok = true;
        NpyArray state = null;
        if (c.statePosition() != null) {
            Map<String, NpyArray> split = runner.splitAtStatePosition(c);
            state = split.get("state");
            write("state", state);
            ok = Comparison.continuation(whole, split, c.statePosition(), precision.tolerance(), out);
        }
        if (compare) {
            Map<String, NpyArray> reference = precision == ComputeDType.BF16
                    ? new CaseRunner(engine.create(variant, c.scale()), ComputeDType.F64)
                            .forwardBackward(c, Comparison.roundedInputs(c, precision))
                    : Comparison.goldenOutputs(c, whole.keySet());
            ok &= Comparison.againstReference(whole, reference, precision.tolerance(), out);
            if (state != null && c.has("state") && precision != ComputeDType.BF16) {
                ok &= Comparison.state(state, c.read("state"), precision.tolerance(), out);
            }
        }
        out.println(ok ? "lla compute: ok" : "lla compute: FAILED");
        return ok ? 0 : Lla.EXIT_CHECK_FAILED;
    }

    private void write(String name, NpyArray a) throws java.io.IOException {
        Npy.write(outDir.resolve(name + ".npy"), a);
        System.out.printf("  wrote %-10s %s%n", name + ".npy", a.shapeString());
    }
}
