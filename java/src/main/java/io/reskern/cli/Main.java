package io.reskern.cli;

import io.reskern.ReskernException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code reskern} command line: run, classify, bench, compare, info. Errors print one line ({@code reskern: error: …}) and exit
 * non-zero — never a stack trace (set {@code RESKERN_DEBUG=1} to see one).
 */
@Command(name = "reskern", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Fast ResNet inference on hand-written CUDA and CPU kernels.",
        subcommands = {RunCommand.class, ClassifyCommand.class, BenchCommand.class, CompareCommand.class, InfoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: run, classify, bench, compare or info");
    }

    public static void main(String[] args) {
        // one line per log record ("INFO: reskern: …") unless the user configured java.util.logging
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null
                && System.getProperty("java.util.logging.config.file") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (for tests: no System.exit). */
    public static int execute(String... args) {
        return newCommandLine().execute(args);
    }

    static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("reskern: error: " + describe(ex));
            if (System.getenv("RESKERN_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ex instanceof ReskernException || ex instanceof IllegalArgumentException ? 2 : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("reskern: error: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return 2;
        });
        return cl;
    }

    static String describe(Throwable ex) {
        String msg = ex.getMessage();
        if (ex instanceof ReskernException re) {
            return msg + " [" + re.code() + "]";
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory: " + msg + " (try a smaller batch or input, or -Xmx)";
        }
        return msg != null ? msg : ex.getClass().getSimpleName();
    }

    /** Version from the jar manifest (or "dev"). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"reskern " + (v != null ? v : "0.1.0-dev")};
        }
    }
}
