package dev.loglinear.cli;

import dev.loglinear.LogLinear;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code lla}: the loglinear command line. {@code ./lla} at the repository root builds what is
 * missing and runs this class.
 */
@Command(name = "lla",
        mixinStandardHelpOptions = true,
        versionProvider = Lla.Version.class,
        description = "Log-linear attention (Guo et al. 2025) from the command line.",
        subcommands = {DemoCommand.class, ComputeCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Lla implements Runnable {

    /**
     * Exit code of a check that failed: a wrong result, not a usage error (as the native
     * {@code llacheck} reports a failed check).
     */
    public static final int EXIT_CHECK_FAILED = 2;
    /** Exit code of a usage error or an error reported by the library or the file system (as llacheck). */
    public static final int EXIT_ERROR = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Lla());
        CommandLine.IParameterExceptionHandler usage = cli.getParameterExceptionHandler();
        cli.setParameterExceptionHandler((e, parseArgs) -> {
            usage.handleParseException(e, parseArgs); // prints the error and the usage
            return EXIT_ERROR;
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("lla " + cmd.getCommandName() + ": " + describe(e));
            return EXIT_ERROR;
        });
        return cli.execute(args);
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        String kind = e.getClass().getSimpleName();
        return message == null ? kind : kind + ": " + message;
    }

    /** Versions of this tool and of the native library it loaded. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String pkg = Lla.class.getPackage().getImplementationVersion();
            return new String[] {"lla " + (pkg == null ? "(development build)" : pkg),
                    "libloglinear " + LogLinear.version()};
        }
    }
}
