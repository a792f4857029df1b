package dev.meshauth.agent;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module graph stays one-way: auth-agent depends on policy, spire-bridge and bpf-auth, which depend
 * on none of each other (in any scope); test-fixtures depends on nothing and anyone may use it in tests;
 * the benchmarks sit on top. policy is pure: nothing but the YAML reader.
 */
class ModuleGraphTest {
    private static final Set<String> LOWER = Set.of("bpf-auth", "spire-bridge", "policy");

    private static Map<String, Set<String>> graph() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        var factory = DocumentBuilderFactory.newInstance();
        NodeList modules = factory.newDocumentBuilder().parse(root.resolve("pom.xml").toFile()).getElementsByTagName("module");
        Map<String, Set<String>> out = new TreeMap<>();
        for (int i = 0; i < modules.getLength(); i++) {
            String module = modules.item(i).getTextContent().strip();
            Element project = factory.newDocumentBuilder().parse(root.resolve(module).resolve("pom.xml").toFile())
                    .getDocumentElement();
            Set<String> deps = new TreeSet<>();
            NodeList list = project.getElementsByTagName("dependency");
            for (int d = 0; d < list.getLength(); d++) {
                Element dep = (Element) list.item(d);
                if (dep.getElementsByTagName("groupId").item(0).getTextContent().strip().equals("dev.meshauth")) {
                    deps.add(dep.getElementsByTagName("artifactId").item(0).getTextContent().strip());
                }
            }
            out.put(module, deps);
        }
        return out;
    }

    /** The groupId:artifactId of every dependency of {@code module} outside test scope. */
    private static Set<String> compileDependencies(String module) throws Exception {
        Path pom = Path.of("..").toAbsolutePath().normalize().resolve(module).resolve("pom.xml");
        Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
        Set<String> out = new TreeSet<>();
        NodeList list = project.getElementsByTagName("dependency");
        for (int d = 0; d < list.getLength(); d++) {
            Element dep = (Element) list.item(d);
            NodeList scope = dep.getElementsByTagName("scope");
            if (scope.getLength() > 0 && scope.item(0).getTextContent().strip().equals("test")) {
                continue;
            }
            out.add(dep.getElementsByTagName("groupId").item(0).getTextContent().strip() + ":"
                    + dep.getElementsByTagName("artifactId").item(0).getTextContent().strip());
        }
        return out;
    }

    @Test
    void policyIsPureItDependsOnNothingButTheYamlReader() throws Exception {
        assertThat(compileDependencies("policy")).as("policy's dependencies outside tests (Kubernetes watches belong in"
                + " auth-agent)").containsExactly("org.yaml:snakeyaml");
    }

    @Test
    void dependenciesPointOneWay() throws Exception {
        Map<String, Set<String>> g = graph();
        assertThat(g).containsKeys("bpf-auth", "spire-bridge", "policy", "auth-agent", "test-fixtures");
        for (String lower : LOWER) {
            assertThat(g.get(lower)).as(lower + " depends on no other meshauth module but the test fixtures")
                    .isSubsetOf(Set.of("test-fixtures"));
        }
        assertThat(g.get("test-fixtures")).as("test-fixtures depends on nothing of ours").isEmpty();
        assertThat(g.get("auth-agent")).as("auth-agent: the glue").isSubsetOf(Set.of("bpf-auth", "spire-bridge", "policy",
                "test-fixtures"));
        g.forEach((module, deps) -> {
            if (!module.equals("bench")) { // the benchmarks sit on top and may use everything
                assertThat(deps).as(module + " does not depend on the benchmarks").doesNotContain("bench");
            }
        });
    }
}
