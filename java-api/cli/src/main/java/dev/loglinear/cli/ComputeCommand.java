package dev.loglinear.cli;

import dev.loglinear.Device;
import dev.loglinear.LogLinear;
import dev.loglinear.MathMode;
import dev.loglinear.Variant;
import dev.loglinear.cli.compute.CaseRunner;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.compute.Comparison;
import dev.loglinear.cli.compute.Tolerances;
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
 * {@code --compare}, also checks every output against the case's reference at the tolerance of
 * docs/numerics.md.
 * With {@code --split-at N}, {@code o} and the gradients come from two calls chained through the
 * state at token {@code N} (forward and backward, the backward contract), written as the one-call
 * run writes them.
 */
@Command(name = "compute", mixinStandardHelpOptions = true, versionProvider = Lla.Version.class,
        description = {"Run a golden-format case (case.json + .npy inputs and do) through the Java API: "
                + "forward + backward (in one call, or two chained through the state with --split-at), and the "
                + "state at state_position when the case has one. "
                + "Writes o, dq, dk, dv, dg, dl [dbeta] [state] as float64 .npy into --out.",
                "Exit codes: 0 ok, 1 an error (usage, bad case, library error), 2 a check failed (as llacheck)."})
public final class ComputeCommand implements Callable<Integer> {

    @Option(names = "--case", required = true, paramLabel = "DIR", description = "Case folder with case.json.")
    Path caseDir;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the .npy results (created).")
    Path outDir;

    @Option(names = "--dtype", paramLabel = "f64|f32|bf16",
            description = "Precision: f64, f32, or bf16 inputs (g stays float32) (default: f64 on the CPU, f32 on "
                    + "CUDA, which computes f32 without TF32 here and has no f64).")
    String dtype;

    @Option(names = "--compare",
            description = "Compare every result with the case's reference .npy files (bf16: with a float64 run on the "
                    + "same bf16-rounded inputs) at the tolerance of docs/numerics.md.")
    boolean compare;

    @Option(names = "--split-at", paramLabel = "N",
            description = {"Compute o and every gradient with two calls chained through the state at token N of "
                    + "every batch row, as one long sequence is trained in segments: forward [0, N) exporting the "
                    + "state, forward [N, T) from it, backward [N, T) giving the state's gradient, backward [0, N) "
                    + "with it. The files are those of a one-call run (all T tokens), so --compare checks the chain "
                    + "against the reference directly. N in 0..T; at 0 and T one segment is empty, which leaves "
                    + "the one-call run. Not for cases with cu_seqlens."})
    Long splitAt;

    @Mixin
    EngineOptions engine;

    @Override
    public Integer call() throws Exception {
        ComputeDType precision = ComputeDType.parse(dtype != null ? dtype : engine.onCuda() ? "f32" : "f64");
        if (engine.onCuda() && precision == ComputeDType.F64) {
            throw new IllegalArgumentException("--dtype f64: the CUDA backend computes f32 and bf16 inputs (docs/cuda.md);"
                    + " use --dtype f32 (exact float32, tolerance 1e-5) or --backend cpu");
        }
        GoldenCase c = GoldenCase.load(caseDir);
        Variant variant = c.isGatedDeltaNet() ? Variant.GATED_DELTANET : Variant.MAMBA2;
        long length = splitAt == null ? 0 : CaseRunner.checkSplit(c, splitAt);
        // float32 on CUDA without TF32, so that it is held to float32's tolerance.
        LogLinear lla = engine.create(variant, c.scale(),
                precision == ComputeDType.F32 ? MathMode.EXACT_FP32 : MathMode.DEFAULT);
        Tolerances tol = Tolerances.of(precision, engine.onCuda(), c.shape("q")[1]);
        PrintStream out = System.out;
        out.printf("lla compute: case %s, dtype %s, backend %s%n", caseDir.getFileName(), precision.label(),
                engine.describe());
        if (splitAt != null) {
            out.printf(splitAt == 0 || splitAt == length
                    ? "  --split-at %d: one segment of the %d tokens is empty, so this is the one-call run%n"
                    : "  --split-at %d: o and gradients of all %d tokens from two calls chained through the state%n",
                    splitAt, length);
        }
        Files.createDirectories(outDir);

        CaseRunner runner = new CaseRunner(lla, precision, engine.device());
        Map<String, NpyArray> whole = splitAt == null ? runner.forwardBackward(c)
                : runner.forwardBackwardSplit(c, splitAt);
        for (Map.Entry<String, NpyArray> e : whole.entrySet()) {
            write(e.getKey(), e.getValue());
        }
        boolean ok = true;
        NpyArray state = null;
        if (c.statePosition() != null) {
            Map<String, NpyArray> split = runner.splitAtStatePosition(c);
            state = split.get("state");
            write("state", state);
            ok = Comparison.continuation(whole, split, c.statePosition(), tol, out);
        }
        if (compare) {
            Map<String, NpyArray> reference = precision == ComputeDType.BF16
                    ? new CaseRunner(engine.cpu(variant, c.scale()), ComputeDType.F64, Device.CPU)
                            .forwardBackward(c, Comparison.roundedInputs(c, precision))
                    : Comparison.goldenOutputs(c, whole.keySet());
            ok &= Comparison.againstReference(whole, reference, tol, out);
            if (state != null && c.has("state") && precision != ComputeDType.BF16) {
                ok &= Comparison.state(state, c.read("state"), tol.of("state"), out);
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
