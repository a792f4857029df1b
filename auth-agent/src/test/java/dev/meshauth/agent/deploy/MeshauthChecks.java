package dev.meshauth.agent.deploy;

import dev.meshauth.agent.cli.CliParsing;
import dev.meshauth.agent.node.AgentConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What meshauth's objects (the agent DaemonSet, the operator, RBAC, the agent's config), rendered by the
 * chart or committed in deploy/, must satisfy: typed kinds, the capabilities, mounts that hold the paths
 * the config names, and command lines and config keys that meshauth's own CLI parses.
 */
final class MeshauthChecks {
    private MeshauthChecks() {
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> items, Class<T> type) {
        return items.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T only(List<HasMetadata> items, Class<T> type) {
        List<T> of = all(items, type);
        assertThat(of).as("one " + type.getSimpleName()).hasSize(1);
        return of.getFirst();
    }

    /** Every object is a known typed kind (a typo in apiVersion or kind makes it generic) and named. */
    static void typed(List<HasMetadata> items, String where) {
        assertThat(items).as(where).isNotEmpty();
        for (HasMetadata o : items) {
            boolean cilium = o.getApiVersion().startsWith("cilium.io/");
            assertThat(o instanceof GenericKubernetesResource).as(where + ": " + o.getKind() + " " + o.getMetadata().getName()
                    + " must be a known typed kind").isEqualTo(cilium);
            assertThat(o.getMetadata().getName()).as(where + ": every object is named").isNotBlank();
        }
    }

    /** The ConfigMap key behind {@code file} as {@code pod} mounts it. */
    static String mountedFile(List<HasMetadata> items, PodSpec pod, Container c, String file) {
        Path f = Path.of(file);
        VolumeMount m = c.getVolumeMounts().stream().filter(vm -> Path.of(vm.getMountPath()).equals(f.getParent()))
                .findFirst().orElseThrow(() -> new AssertionError(file + " is in no volume the container mounts"));
        Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst().orElseThrow();
        assertThat(v.getConfigMap()).as(file + " comes from a ConfigMap").isNotNull();
        ConfigMap cm = all(items, ConfigMap.class).stream().filter(x -> x.getMetadata().getName().equals(v.getConfigMap()
                .getName())).findFirst().orElseThrow(() -> new AssertionError("no ConfigMap " + v.getConfigMap().getName()));
        String data = cm.getData() == null ? null : cm.getData().get(f.getFileName().toString());
        assertThat(data).as(cm.getMetadata().getName() + " holds " + f.getFileName()).isNotNull();
        return data;
    }

    /**
     * The container's command line as meshauth parses it: {@code $(NODE_NAME)} expanded, a {@code --config}
     * file taken from the ConfigMap it is mounted from (so its keys are checked as flags are).
     */
    static List<String> commandLine(List<HasMetadata> items, PodSpec pod, Container c, Path tmp) throws IOException {
        List<String> out = new ArrayList<>();
        for (String a : c.getArgs()) {
            String x = a.replace("$(NODE_NAME)", "node-1");
            if (x.startsWith("--config=")) {
                String file = x.substring("--config=".length());
                Path copy = Files.writeString(Files.createTempFile(tmp, "config", ".yaml"), mountedFile(items, pod, c, file));
                x = "--config=" + copy;
            }
            out.add(x);
        }
        return out;
    }

    /** The agent's settings as the DaemonSet starts it. */
    static AgentConfig agentConfig(List<HasMetadata> items, Path tmp) throws IOException {
        DaemonSet ds = only(items, DaemonSet.class);
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        return CliParsing.agentConfig(commandLine(items, pod, pod.getContainers().getFirst(), tmp));
    }

    /** Every flag and config key of the agent and the operator exists in meshauth's CLI and parses. */
    static void invocationsParse(List<HasMetadata> items, Path tmp) throws IOException {
        assertThat(agentConfig(items, tmp).nodeName()).isEqualTo("node-1");
        for (Deployment op : all(items, Deployment.class)) {
            PodSpec pod = op.getSpec().getTemplate().getSpec();
            CliParsing.parse(commandLine(items, pod, pod.getContainers().getFirst(), tmp));
        }
    }

    /** The agent: host network, least capabilities, the admin socket's directory from the host. */
    static void agent(List<HasMetadata> items, String spireAdminSocket, Path tmp) throws IOException {
        DaemonSet ds = only(items, DaemonSet.class);
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();
        assertThat(pod.getHostNetwork()).isTrue();
        assertThat(c.getSecurityContext().getPrivileged()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getSecurityContext().getCapabilities().getAdd()).containsExactlyInAnyOrder("BPF", "NET_ADMIN", "SYS_RESOURCE");
        AgentConfig config = agentConfig(items, tmp);
        assertThat(config.adminSocket().toString()).as("the SPIRE agent's admin_socket_path").isEqualTo(spireAdminSocket);
        String adminDir = config.adminSocket().getParent().toString();
        assertThat(c.getVolumeMounts().stream().map(VolumeMount::getMountPath)).contains(adminDir, "/sys/fs/bpf");
        String volume = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(adminDir)).findFirst().orElseThrow()
                .getName();
        assertThat(pod.getVolumes().stream().filter(v -> v.getName().equals(volume)).findFirst().orElseThrow().getHostPath()
                .getPath()).isEqualTo(adminDir);
        config.statusSocket().ifPresent(s -> assertThat(c.getVolumeMounts().stream().map(VolumeMount::getMountPath))
                .as("the status socket's directory is the host's").contains(s.getParent().toString()));
        config.metrics().ifPresent(m -> assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal())
                .as("the readiness probe asks the metrics port").isEqualTo(m.getPort()));
    }

    /** RBAC reads only what the Kubernetes watches need. */
    static void rbac(List<HasMetadata> items) {
        Map<String, ClusterRole> roles = new java.util.HashMap<>();
        all(items, ClusterRole.class).forEach(r -> roles.put(r.getMetadata().getName(), r));
        ClusterRole role = roles.get("meshauth-agent");
        assertThat(role.getRules()).allSatisfy(r -> assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch"));
        assertThat(role.getRules().stream().flatMap(r -> r.getResources().stream())).containsExactlyInAnyOrder(
                "ciliumnodes", "ciliumendpoints", "ciliumidentities", "ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies");
        List<String> args = only(items, Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs();
        boolean byNode = args.contains("--registration=node");
        assertThat(byNode || args.contains("--registration=cluster")).as("the operator's layout is explicit: " + args).isTrue();
        assertThat(roles.get("meshauth-operator").getRules()).singleElement().satisfies(r -> {
            assertThat(r.getResources()).as("node-scoped: where endpoints run; cluster-wide: identities")
                    .containsExactlyElementsOf(byNode ? List.of("ciliumendpoints", "ciliumnodes") : List.of("ciliumidentities"));
            assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch");
        });
    }

    /** The operator is the SPIRE server's admin: its entry's selectors match its pods; a budget keeps one up. */
    static void operator(List<HasMetadata> items, Map<String, Object> serverConf, String registerScript) {
        Map<String, Object> srv = DeployManifestsTest.map(serverConf.get("server"));
        Deployment op = only(items, Deployment.class);
        String td = (String) srv.get("trust_domain");
        assertThat(srv.get("admin_ids")).isEqualTo(List.of("spiffe://" + td + "/cilium-operator"));
        String ns = op.getMetadata().getNamespace();
        String sa = op.getSpec().getTemplate().getSpec().getServiceAccountName();
        assertThat(registerScript).contains("-spiffeID \"$TD/cilium-operator\" -selector k8s:ns:" + ns + " -selector k8s:sa:" + sa);
        List<String> args = op.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs();
        assertThat(args).contains("--spire-server-id=spiffe://" + td + "/spire/server", "--mesh-auth-spiffe-trust-domain=" + td);
        if (args.contains("--registration=node") && args.stream().noneMatch(a -> a.startsWith("--node-parent-template="))) {
            // The default parent is the k8s_psat agent ID, whose cluster segment is the server attestor's cluster name.
            String cluster = args.stream().filter(a -> a.startsWith("--cluster-name=")).findFirst().orElseThrow()
                    .substring("--cluster-name=".length());
            Map<String, Object> psat = DeployManifestsTest.map(DeployManifestsTest.map(DeployManifestsTest.map(
                    DeployManifestsTest.map(serverConf.get("plugins")).get("NodeAttestor")).get("k8s_psat")).get("plugin_data"));
            assertThat(DeployManifestsTest.map(psat.get("clusters"))).as("the operator's --cluster-name is SPIRE's k8s_psat cluster")
                    .containsKey(cluster);
        }
        PodDisruptionBudget pdb = only(items, PodDisruptionBudget.class);
        assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(op.getSpec().getSelector().getMatchLabels());
        assertThat(op.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(
                op.getSpec().getSelector().getMatchLabels());
        assertThat(op.getSpec().getReplicas()).isGreaterThan(pdb.getSpec().getMinAvailable().getIntVal());
    }

    /** The service account a pod runs as exists among the objects. */
    static Optional<String> missingServiceAccount(List<HasMetadata> items, PodSpec pod) {
        String sa = pod.getServiceAccountName();
        return all(items, io.fabric8.kubernetes.api.model.ServiceAccount.class).stream()
                .anyMatch(s -> s.getMetadata().getName().equals(sa)) ? Optional.empty() : Optional.of(sa);
    }
}
