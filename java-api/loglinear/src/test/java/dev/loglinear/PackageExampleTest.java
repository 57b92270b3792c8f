package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example program in package-info.java compiles and runs as written. */
class PackageExampleTest {
    static final Path PACKAGE_INFO = Path.of("src/main/java/dev/loglinear/package-info.java");

    @Test
    void packageDocumentationExampleRuns(@TempDir Path dir) throws Exception {
        Path source = dir.resolve("Example.java");
        Files.writeString(source, exampleSource());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int status = javac.run(null, diagnostics, diagnostics, "-cp", classPath, "-d", dir.toString(),
                source.toString());
        assertThat(status).as("javac of the example:%n%s", diagnostics).isZero();

        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            Method main = loader.loadClass("Example").getMethod("main", String[].class);
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(stdout);
        }
        String output = printed.toString(StandardCharsets.UTF_8);
        stdout.print(output);
        assertThat(output).contains("o[0] = ", "dq[0] = ", "positions [1040]");
    }

    /** The code block that starts with {@code import dev.loglinear.*;}, without the comment margin. */
    static String exampleSource() throws Exception {
        List<String> lines = Files.readAllLines(PACKAGE_INFO);
        StringBuilder code = new StringBuilder();
        boolean inside = false;
        for (String line : lines) {
            String text = line.replaceFirst("^ \\* ?", "");
            if (text.equals("import dev.loglinear.*;")) {
                inside = true;
            } else if (inside && text.startsWith("}</pre>")) {
                return code.toString().replace("&#64;", "@");
            }
            if (inside) {
                code.append(text).append('\n');
            }
        }
        throw new AssertionError("no example starting with 'import dev.loglinear.*;' in " + PACKAGE_INFO);
    }
}
