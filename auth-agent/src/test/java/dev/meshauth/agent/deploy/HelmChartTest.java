package dev.meshauth.agent.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Helm chart (deploy/helm/meshauth) with the real helm (built from Helm's Go module by
 * interop/helm/build.sh; {@code .ci/run} sets {@code MESHAUTH_HELM_BIN}): lint and template for the
 * default values and for a variant (standalone datapath, Kubernetes source off); the rendered objects pass
 * the same checks as the committed manifests, and deploy/cilium/meshauth.yaml is what the chart renders.
 * Without helm a test skips, naming how to build it; under {@code CI=true} it fails instead.
 */
class HelmChartTest {
    private static final Path CHART = Path.of("..", "deploy", "helm", "meshauth").toAbsolutePath().normalize();
    private static final String VARIANT = CHART.resolve("ci/standalone-files-values.yaml").toString();

    record Helm(int code, String out, String err) {
    }

    private static Path helm() {
        String env = System.getenv("MESHAUTH_HELM_BIN");
        Path bin = env != null && !env.isBlank() ? Path.of(env, "helm") : cachedOrBuilt();
        if (!Files.isExecutable(bin)) {
            String why = "helm not found at " + bin + ": build it with interop/helm/build.sh (needs Go 1.26), or set"
                    + " MESHAUTH_HELM_BIN";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        return bin;
    }

    /** helm from .cache/helm/VERSION, built by interop/helm/build.sh first (about 2 minutes) if Go is here. */
    private static synchronized Path cachedOrBuilt() {
        Path root = CHART.resolve("../../..").normalize();
        try {
            String version = Files.readString(root.resolve("interop/helm/VERSION")).strip();
            Path bin = root.resolve(".cache/helm/" + version + "/bin/helm");
            boolean go = java.util.stream.Stream.of((System.getenv("PATH") + ":/usr/local/go/bin").split(":"))
                    .anyMatch(d -> Files.isExecutable(Path.of(d.isEmpty() ? "." : d, "go")));
            if (!Files.isExecutable(bin) && go) {
                ProcessBuilder pb = new ProcessBuilder(root.resolve("interop/helm/build.sh").toString()).inheritIO();
                pb.environment().put("PATH", System.getenv("PATH") + ":/usr/local/go/bin");
                pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
                Process p = pb.start();
                if (!p.waitFor(20, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                }
            }
            return bin;
        } catch (IOException e) {
            throw new IllegalStateException("reading interop/helm/VERSION", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Helm run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(helm().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("helm " + String.join(" ", args) + " ends").isTrue();
        return new Helm(p.exitValue(), out, err.get());
    }

    private static String template(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("template", "meshauth", CHART.toString(), "--namespace", "meshauth"));
        args.addAll(List.of(extra));
        Helm h = run(args.toArray(String[]::new));
        assertThat(h.code()).as(h.err()).isZero();
        return h.out();
    }

    private static List<HasMetadata> objects(String yaml) {
        return DeployManifestsTest.CLIENT.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    }

    @Test
    void theChartLintsWithTheDefaultValuesAndTheVariant() throws Exception {
        Helm lint = run("lint", CHART.toString(), "--strict");
        assertThat(lint.code()).as(lint.out() + lint.err()).isZero();
        Helm variant = run("lint", CHART.toString(), "--strict", "-f", VARIANT);
        assertThat(variant.code()).as(variant.out() + variant.err()).isZero();
    }

    @Test
    void theCommittedManifestsAreWhatTheChartRenders() throws Exception {
        String committed = Files.readString(CHART.resolve("../../cilium/meshauth.yaml").normalize());
        String body = committed.lines().dropWhile(l -> l.startsWith("# ")).collect(java.util.stream.Collectors.joining("\n"))
                + "\n";
        assertThat(body).as("deploy/cilium/meshauth.yaml is stale: run deploy/helm/render.sh").isEqualTo(template());
    }

    @Test
    void theDefaultRenderingPassesTheManifestChecks(@TempDir Path tmp) throws Exception {
        List<HasMetadata> items = objects(template());
        MeshauthChecks.typed(items, "helm template (defaults)");
        MeshauthChecks.agent(items, DeployManifestsTest.spireAgentAdminSocket(), tmp);
        MeshauthChecks.invocationsParse(items, tmp);
        MeshauthChecks.rbac(items);
        ConfigMap server = DeployManifestsTest.one(DeployManifestsTest.load("spire/server.yaml"), ConfigMap.class,
                "spire-server");
        MeshauthChecks.operator(items, Hcl.parse(server.getData().get("server.conf")), server.getData().get("register.sh"));
        var config = MeshauthChecks.agentConfig(items, tmp);
        assertThat(config.port()).as("authentication.mutual.port").isEqualTo(4250);
        assertThat(config.gcInterval()).as("authentication.gcInterval 5m0s").hasMinutes(5);
        assertThat(config.listen()).as("every address, as Cilium").isInstanceOf(dev.meshauth.agent.node.ListenAddress.AllAddresses.class);
        assertThat(config.source()).isInstanceOf(dev.meshauth.agent.node.source.SourceConfig.Kubernetes.class);
        assertThat(config.standalone()).isFalse();
        assertThat(config.ciliumNodeMap()).isPresent();
    }

    @Test
    void theStandaloneFilesVariantRendersAnAgentOnItsFilesWithoutClusterRoles(@TempDir Path tmp) throws Exception {
        List<HasMetadata> items = objects(template("-f", VARIANT));
        MeshauthChecks.typed(items, "helm template (standalone, files)");
        MeshauthChecks.agent(items, DeployManifestsTest.spireAgentAdminSocket(), tmp);
        MeshauthChecks.invocationsParse(items, tmp);
        assertThat(MeshauthChecks.all(items, ClusterRole.class)).as("no Kubernetes watches: no API access").isEmpty();
        var config = MeshauthChecks.agentConfig(items, tmp);
        assertThat(config.standalone()).isTrue();
        assertThat(config.trustDomain().getName()).isEqualTo("example.org");
        assertThat(config.source()).isInstanceOfSatisfying(dev.meshauth.agent.node.source.SourceConfig.Files.class, f -> {
            DaemonSet ds = MeshauthChecks.only(items, DaemonSet.class);
            PodSpec pod = ds.getSpec().getTemplate().getSpec();
            var c = pod.getContainers().getFirst();
            // The files the agent reads are the ConfigMaps' content, mounted where its config says.
            String endpoints = MeshauthChecks.mountedFile(items, pod, c, f.endpoints().toString());
            assertThat(endpoints).contains("deathstar").contains("198.18.0.1");
            assertThat(MeshauthChecks.mountedFile(items, pod, c, f.policies().getFirst().resolve("star-wars.yaml").toString()))
                    .contains("authentication: {mode: required}");
        });
        for (Deployment op : MeshauthChecks.all(items, Deployment.class)) {
            assertThat(op.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs())
                    .contains("--endpoints=/etc/meshauth/endpoints/endpoints.yaml").doesNotContain("--kubernetes");
        }
        for (var pod : List.of(MeshauthChecks.only(items, DaemonSet.class).getSpec().getTemplate().getSpec(),
                MeshauthChecks.only(items, Deployment.class).getSpec().getTemplate().getSpec())) {
            assertThat(MeshauthChecks.missingServiceAccount(items, pod)).isEmpty();
        }
    }

    @Test
    void aMistypedOrInvalidValueIsRefusedNamingIt() throws Exception {
        Helm typo = run("template", "meshauth", CHART.toString(), "--set", "authentication.mutual.prot=4251");
        assertThat(typo.code()).isNotZero();
        assertThat(typo.err()).contains("/authentication/mutual").contains("'prot' not allowed");
        Helm duration = run("template", "meshauth", CHART.toString(), "--set", "authentication.gcInterval=5 minutes");
        assertThat(duration.code()).isNotZero();
        assertThat(duration.err()).contains("/authentication/gcInterval");
        Helm mode = run("template", "meshauth", CHART.toString(), "--set", "datapath.mode=standalon");
        assertThat(mode.err()).contains("/datapath/mode").contains("'cilium', 'standalone'");
        Helm noFiles = run("template", "meshauth", CHART.toString(), "--set", "kubernetes.enabled=false");
        assertThat(noFiles.code()).isNotZero();
        assertThat(noFiles.err()).contains("--set-file files.endpoints=PATH");
    }
}
