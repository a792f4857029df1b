package dev.meshauth.agent.deploy;

import dev.meshauth.agent.cli.Main;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/: every manifest parses into fabric8's typed objects; the SPIRE configs carry what SPIRE needs
 * (sockets in different directories, meshauth as the only delegate, the attestors); the flags the
 * DaemonSet and the operator sidecar pass exist in meshauth's CLI and parse.
 */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("..", "deploy");
    private static final KubernetesClient CLIENT = new KubernetesClientBuilder().build(); // parsing only: never connects

    @AfterAll
    static void close() {
        CLIENT.close();
    }

    private static List<HasMetadata> load(String file) throws IOException {
        try (InputStream in = Files.newInputStream(DEPLOY.resolve(file))) {
            return CLIENT.load(in).items();
        }
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> items, Class<T> type, String name) {
        return items.stream().filter(type::isInstance).map(type::cast).filter(o -> o.getMetadata().getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @Test
    void everyManifestParsesIntoTypedObjects() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(DEPLOY)) {
            files = s.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("values.yaml")).sorted()
                    .toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(8);
        for (Path f : files) {
            List<HasMetadata> items = load(DEPLOY.relativize(f).toString());
            assertThat(items).as(f.toString()).isNotEmpty();
            for (HasMetadata o : items) {
                boolean cilium = o.getApiVersion().startsWith("cilium.io/");
                assertThat(o instanceof GenericKubernetesResource).as(f + ": " + o.getKind() + " " + o.getMetadata().getName()
                        + " must be a known typed kind (a typo in apiVersion or kind makes it generic)").isEqualTo(cilium);
                assertThat(o.getMetadata().getName()).as(f + ": every object is named").isNotBlank();
            }
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
    void theMeshauthAgentMountsTheAdminSocketItsFlagNamesAndHasOnlyTheCapabilitiesItNeeds() throws IOException {
        DaemonSet ds = one(load("cilium/agent-daemonset.yaml"), DaemonSet.class, "meshauth-agent");
        Container c = ds.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(ds.getSpec().getTemplate().getSpec().getHostNetwork()).isTrue();
        assertThat(c.getSecurityContext().getPrivileged()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getSecurityContext().getCapabilities().getAdd()).containsExactlyInAnyOrder("BPF", "NET_ADMIN", "SYS_RESOURCE");
        String adminFlag = c.getArgs().stream().filter(x -> x.startsWith("--mesh-auth-spire-admin-socket=")).findFirst()
                .orElseThrow().split("=", 2)[1];
        ConfigMap agentConf = one(load("spire/agent.yaml"), ConfigMap.class, "spire-agent");
        assertThat(Hcl.parse(agentConf.getData().get("agent.conf")).get("agent")).asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("admin_socket_path", adminFlag);
        Set<String> mounted = new java.util.HashSet<>();
        c.getVolumeMounts().forEach(m -> mounted.add(m.getMountPath()));
        assertThat(mounted).contains(Path.of(adminFlag).getParent().toString(), "/sys/fs/bpf");
        Map<String, Volume> vols = new java.util.HashMap<>();
        ds.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> vols.put(v.getName(), v));
        assertThat(vols.get("spire-admin").getHostPath().getPath()).isEqualTo("/run/spire/admin");
    }

    @Test
    void everyFlagInTheManifestsExistsInTheCli() throws IOException {
        List<List<String>> invocations = new ArrayList<>();
        DaemonSet ds = one(load("cilium/agent-daemonset.yaml"), DaemonSet.class, "meshauth-agent");
        invocations.add(ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs());
        Deployment op = one(load("cilium/operator.yaml"), Deployment.class, "meshauth-operator");
        invocations.add(op.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs());
        for (List<String> args : invocations) {
            List<String> expanded = args.stream().map(x -> x.replace("$(NODE_NAME)", "node-1")).toList();
            CommandLine cl = Main.newCommandLine();
            CommandLine.ParseResult r = cl.parseArgs(expanded.toArray(String[]::new)); // throws on an unknown flag
            assertThat(r.subcommand()).as(String.join(" ", expanded)).isNotNull();
            assertThat(r.subcommand().unmatched()).isEmpty();
        }
    }

    @Test
    void rbacGrantsOnlyReadsOfWhatTheWatchesNeed() throws IOException {
        ClusterRole role = one(load("cilium/rbac.yaml"), ClusterRole.class, "meshauth-agent");
        assertThat(role.getRules()).allSatisfy(r -> assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch"));
        assertThat(role.getRules().stream().flatMap(r -> r.getResources().stream())).containsExactlyInAnyOrder(
                "ciliumnodes", "ciliumendpoints", "ciliumidentities", "ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies");
        ClusterRole op = one(load("cilium/rbac.yaml"), ClusterRole.class, "meshauth-operator");
        assertThat(op.getRules()).singleElement().satisfies(r -> {
            assertThat(r.getResources()).containsExactly("ciliumidentities");
            assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch");
        });
    }

    @Test
    void theOperatorIsTheServersOnlyAdminAndItsEntryMatchesItsPods() throws IOException {
        ConfigMap server = one(load("spire/server.yaml"), ConfigMap.class, "spire-server");
        Map<String, Object> srv = map(Hcl.parse(server.getData().get("server.conf")).get("server"));
        Deployment op = one(load("cilium/operator.yaml"), Deployment.class, "meshauth-operator");
        String td = (String) srv.get("trust_domain");
        assertThat(srv.get("admin_ids")).isEqualTo(List.of("spiffe://" + td + "/cilium-operator"));
        String ns = op.getMetadata().getNamespace();
        String sa = op.getSpec().getTemplate().getSpec().getServiceAccountName();
        assertThat(server.getData().get("register.sh")).contains("-spiffeID \"$TD/cilium-operator\" -selector k8s:ns:" + ns
                + " -selector k8s:sa:" + sa);
        List<String> args = op.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs();
        assertThat(args).contains("--spire-server-id=spiffe://" + td + "/spire/server", "--mesh-auth-spiffe-trust-domain=" + td);
        PodDisruptionBudget pdb = one(load("cilium/operator.yaml"), PodDisruptionBudget.class, "meshauth-operator");
        assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(op.getSpec().getSelector().getMatchLabels());
        assertThat(op.getSpec().getReplicas()).isGreaterThan(pdb.getSpec().getMinAvailable().getIntVal());
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
