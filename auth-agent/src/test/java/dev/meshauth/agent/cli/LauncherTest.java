package dev.meshauth.agent.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The runtime launcher (src/main/jib/usr/local/bin/meshauth, the image's entrypoint and what ./meshauth
 * runs): the JVM each kind of process gets; and the CLI's JDK 25 ahead-of-time cache, recorded from
 * {@link AotTraining} by a real JVM and used by the next one.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("src/main/jib/usr/local/bin/meshauth").toAbsolutePath();
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    record Run(int code, String out) {
        List<String> args() {
            return out.lines().filter(l -> !l.startsWith("env ")).toList();
        }
    }

    /** The launcher with a java that prints what it was given (the name says what it is). */
    private static Run launch(Path dir, Map<String, String> env, String... args) throws Exception {
        Path fake = dir.resolve("fake-java-that-prints-its-arguments");
        Files.writeString(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"
                + "printf 'env MALLOC_ARENA_MAX=%s\\n' \"${MALLOC_ARENA_MAX:-}\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().remove("MESHAUTH_JAVA_OPTS");
        pb.environment().put("MESHAUTH_JAVA", fake.toString());
        pb.environment().put("MESHAUTH_CLASSPATH", "/opt/meshauth/lib/a.jar");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    void theAgentGetsTheOptimizingCompilerAndABoundedHeap(@TempDir Path dir) throws Exception {
        for (String[] args : List.of(new String[] {"agent", "--node-name", "n1"}, new String[] {"--debug", "operator"})) {
            Run r = launch(dir, Map.of(), args);
            assertThat(r.code()).isZero();
            assertThat(r.args()).contains("-XX:-TieredCompilation", "-XX:+UseSerialGC", "-Xms16m", "-XX:NewSize=4m", "-XX:MaxNewSize=64m",
                    "-XX:TrimNativeHeapInterval=5000", "-cp", "/opt/meshauth/lib/a.jar", "dev.meshauth.agent.cli.Main")
                    .doesNotContain("-XX:TieredStopAtLevel=1");
            assertThat(r.args()).as("a bounded heap: the container's limit, or 512 MiB without one")
                    .containsAnyOf("-Xmx512m", "-XX:MaxRAMPercentage=75");
            assertThat(r.out()).contains("env MALLOC_ARENA_MAX=2");
            assertThat(r.args().subList(r.args().indexOf("dev.meshauth.agent.cli.Main") + 1, r.args().size()))
                    .containsExactly(args);
        }
    }

    @Test
    void cliCommandsStartWithC1AndTheAotCacheWhenThereIsOne(@TempDir Path dir) throws Exception {
        Path aot = dir.resolve("cli.aot");
        Run without = launch(dir, Map.of("MESHAUTH_AOT_CACHE", aot.toString()), "status");
        assertThat(without.args()).contains("-XX:TieredStopAtLevel=1", "-XX:-UsePerfData")
                .noneMatch(a -> a.startsWith("-XX:AOTCache"));
        Files.write(aot, new byte[] {1});
        Run with = launch(dir, Map.of("MESHAUTH_AOT_CACHE", aot.toString(), "MESHAUTH_JAVA_OPTS", "-Xmx64m -Dx=y"), "status",
                "-o", "json");
        assertThat(with.args()).contains("-XX:AOTCache=" + aot);
        assertThat(with.args().indexOf("-Xmx64m")).as("MESHAUTH_JAVA_OPTS come last: they win")
                .isGreaterThan(with.args().indexOf("-XX:TieredStopAtLevel=1"));
        Run demo = launch(dir, Map.of("MESHAUTH_AOT_CACHE", aot.toString()), "demo");
        assertThat(demo.args()).as("the demo: the full tiered JIT").doesNotContain("-XX:TieredStopAtLevel=1",
                "-XX:-TieredCompilation").noneMatch(a -> a.startsWith("-XX:AOTCache"));
    }

    @Test
    void theAotCacheIsRecordedFromTheTrainingAndServesTheCliClasses(@TempDir Path dir) throws Exception {
        // AOT caches take jars only: the class path's directories (this module's classes) become jars.
        List<String> cp = new ArrayList<>();
        int n = 0;
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(e);
            if (Files.isDirectory(p)) {
                if (!p.endsWith("test-classes")) {
                    cp.add(jar(p, dir.resolve("classes-" + n++ + ".jar")).toString());
                }
            } else if (e.endsWith(".jar")) {
                cp.add(e);
            }
        }
        String classPath = String.join(java.io.File.pathSeparator, cp);
        Path aot = dir.resolve("cli.aot");
        List<String> jvm = List.of(JAVA.toString(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
        List<String> record = new ArrayList<>(jvm);
        record.addAll(List.of("-XX:AOTCacheOutput=" + aot, "-cp", classPath, AotTraining.class.getName()));
        Process training = new ProcessBuilder(record).redirectErrorStream(true).start();
        String trainingOut = new String(training.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(training.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(training.exitValue()).as(trainingOut).isZero();
        assertThat(aot).isNotEmptyFile();

        List<String> use = new ArrayList<>(jvm);
        use.addAll(List.of("-XX:AOTCache=" + aot, "-Xlog:class+load=info", "-cp", classPath, Main.class.getName(), "status",
                "--status-socket", dir.resolve("no-agent.sock").toString()));
        Process cli = new ProcessBuilder(use).redirectErrorStream(true).start();
        String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cli.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cli.exitValue()).as("no agent there: exit 1").isEqualTo(1);
        assertThat(out).contains("no meshauth agent status socket at");
        // picocli's classes are Java 5 class files, which an AOT cache cannot hold linked: they load as usual.
        assertThat(out).as("the CLI's classes come from the AOT cache")
                .containsPattern("dev\\.meshauth\\.agent\\.cli\\.Main source: shared objects file")
                .containsPattern("dev\\.meshauth\\.agent\\.cli\\.StatusCommand source: shared objects file")
                .containsPattern("dev\\.meshauth\\.agent\\.status\\.StatusClient source: shared objects file");
    }

    private static Path jar(Path classes, Path jar) throws IOException {
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }
}
