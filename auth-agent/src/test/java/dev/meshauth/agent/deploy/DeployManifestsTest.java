package dev.meshauth.agent.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/: every manifest parses into fabric8's typed objects; the SPIRE configs carry what SPIRE needs
 * (sockets in different directories, meshauth as the only delegate, the attestors); the flags the
 * DaemonSet and the operator sidecar pass exist in meshauth's CLI and parse.
 */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("..", "deploy");
    static final KubernetesClient CLIENT = new KubernetesClientBuilder().build(); // parsing only: never connects

    @AfterAll
    static void close() {
        CLIENT.close();
    }

    static List<HasMetadata> load(String file) throws IOException {
        try (InputStream in = Files.newInputStream(DEPLOY.resolve(file))) {
            return CLIENT.load(in).items();
        }
    }

    static <T extends HasMetadata> T one(List<HasMetadata> items, Class<T> type, String name) {
        return items.stream().filter(type::isInstance).map(type::cast).filter(o -> o.getMetadata().getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @Test
    void everyManifestParsesIntoTypedObjects() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(DEPLOY)) {
            files = s.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("values.yaml"))
                    .filter(p -> !p.startsWith(DEPLOY.resolve("helm"))) // templates: HelmChartTest checks what they render
                    .sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(6);
        for (Path f : files) {
            MeshauthChecks.typed(load(DEPLOY.relativize(f).toString()), f.toString());
        }
    }

    @Test
    void spireConfigsCarryWhatSpireRequires() throws IOException {
        ConfigMap server = one(load("spire/server.yaml"), ConfigMap.class, "spire-server");
        Map<String, Object> s = Hcl.parse(server.getData().get("server.conf"));
        Map<String, Object> srv = map(s.get("server"));
        assertThat(srv.get("trust_domain")).isEqualTo("spiffe.cilium");
        assertThat(map(s.get("plugins"))).containsKeys("DataStore", "NodeAttestor", "KeyManager", "Notifier");
        Map<String, Object> plugins = map(s.get("plugins"));
        assertThat(map(plugins.get("NodeAttestor"))).containsKey("k8s_psat");
        assertThat(map(plugins.get("Notifier"))).containsKey("k8sbundle");
        Map<String, Object> sql = map(map(map(plugins.get("DataStore")).get("sql")).get("plugin_data"));
        assertThat(sql.get("database_type")).isEqualTo("sqlite3");

        ConfigMap agent = one(load("spire/agent.yaml"), ConfigMap.class, "spire-agent");
        Map<String, Object> a = Hcl.parse(agent.getData().get("agent.conf"));
        Map<String, Object> ag = map(a.get("agent"));
        String workload = (String) ag.get("socket_path");
        String admin = (String) ag.get("admin_socket_path");
        assertThat(Path.of(admin).getParent()).as("SPIRE refuses an admin socket in the workload socket's directory")
                .isNotEqualTo(Path.of(workload).getParent());
        assertThat(Path.of(admin).startsWith(Path.of(workload).getParent())).isFalse();
        assertThat(ag.get("authorized_delegates")).isEqualTo(List.of("spiffe://spiffe.cilium/meshauth-agent"));
        assertThat(ag.get("trust_domain")).isEqualTo(srv.get("trust_domain"));
        Map<String, Object> ap = map(a.get("plugins"));
        assertThat(map(ap.get("NodeAttestor"))).containsKey("k8s_psat");
        assertThat(map(ap.get("WorkloadAttestor"))).containsKey("k8s");

        // The agent DaemonSet mounts the two socket directories from different host paths.
        DaemonSet ds = one(load("spire/agent.yaml"), DaemonSet.class, "spire-agent");
        List<String> hostPaths = ds.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getHostPath() != null)
                .map(v -> v.getHostPath().getPath()).toList();
        assertThat(hostPaths).contains(Path.of(workload).getParent().toString(), Path.of(admin).getParent().toString());
        // The registration script registers the delegate the agent config names.
        assertThat(server.getData().get("register.sh")).contains("$TD/meshauth-agent").contains("-node");
    }

    @Test
    void theMeshauthAgentMountsTheAdminSocketItsConfigNamesAndHasOnlyTheCapabilitiesItNeeds(@TempDir Path tmp)
            throws IOException {
        MeshauthChecks.agent(load("cilium/meshauth.yaml"), spireAgentAdminSocket(), tmp);
    }

    @Test
    void everyFlagAndConfigKeyInTheManifestsExistsInTheCli(@TempDir Path tmp) throws IOException {
        MeshauthChecks.invocationsParse(load("cilium/meshauth.yaml"), tmp);
    }

    @Test
    void rbacGrantsOnlyReadsOfWhatTheWatchesNeed() throws IOException {
        MeshauthChecks.rbac(load("cilium/meshauth.yaml"));
    }

    @Test
    void theOperatorIsTheServersOnlyAdminAndItsEntryMatchesItsPods() throws IOException {
        ConfigMap server = one(load("spire/server.yaml"), ConfigMap.class, "spire-server");
        MeshauthChecks.operator(load("cilium/meshauth.yaml"), Hcl.parse(server.getData().get("server.conf")),
                server.getData().get("register.sh"));
    }

    /** The admin socket path deploy/spire's agent config gives the SPIRE agent. */
    static String spireAgentAdminSocket() throws IOException {
        ConfigMap agentConf = one(load("spire/agent.yaml"), ConfigMap.class, "spire-agent");
        return (String) map(Hcl.parse(agentConf.getData().get("agent.conf")).get("agent")).get("admin_socket_path");
    }

    @Test
    void theAdmissionPolicyGuardsTheEmpireLabelAndTheHelmValuesLeaveMutualAuthToMeshauth() throws IOException {
        ValidatingAdmissionPolicy vap = one(load("cilium/empire-label-admission.yaml"), ValidatingAdmissionPolicy.class,
                "restrict-empire-label");
        assertThat(vap.getSpec().getValidations()).singleElement().satisfies(v -> assertThat(v.getExpression())
                .contains("'empire'"));
        Map<String, Object> values = new Yaml().load(Files.readString(DEPLOY.resolve("cilium/values.yaml")));
        Map<String, Object> auth = map(values.get("authentication"));
        assertThat(auth.get("enabled")).isEqualTo(true);
        Map<String, Object> spire = map(map(auth.get("mutual")).get("spire"));
        assertThat(spire.get("enabled")).isEqualTo(false);
    }
}
